/*
** nn/lua/lnn.h: the Lua binding of the nn core (the only nn/ code that includes lua.h).
*/
#ifndef LNN_H
#define LNN_H

#include <lua.h>

int luaopen_nn(lua_State *L);

#endif
