-- Shared by the scripts of every run (cmake/embed.cmake pastes it in).
-- int(x) writes the whole number X (a time in ms, a count) as decimal text.
-- Redis 7.0 turns a Lua number passed to redis.call into text with
-- snprintf("%.17g"), and Lua's `..` with "%.14g": both run the C library's
-- floating-point printer, about 0.3 us a number, which "%d" skips. Text
-- passed to redis.call is stored as given, so these scripts convert once.
local function int(x) return string.format('%d', x) end
