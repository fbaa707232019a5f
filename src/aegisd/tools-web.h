/* tools-web.h — the web tools (tools-web.c): their catalogue entries, listed in tools.c. */
#pragma once

#include "tool-call.h"

extern const ToolDef tool_web_fetch, tool_web_search;
