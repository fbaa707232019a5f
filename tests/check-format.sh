#!/bin/bash
# The tree is clang-formatted and uses no banned function.
exec "${top_srcdir:-.}/tools/check-format.sh"
