/* api-agents.h — /v1/agents (api-agents.c): the route table served with the Executions as
 * userdata. */
#pragma once

#include "http.h"

extern const HttpRoute api_agent_routes[];
