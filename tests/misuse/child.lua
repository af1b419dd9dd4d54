-- tests/misuse/child.lua I: runs case I of tests/misuse/cases.lua in this (fresh) process and
-- prints what became of it: "MISUSE-ERROR" and the error's message, or "MISUSE-NOERROR".
-- It then returns normally, so the state is closed and every finalizer runs: a crash at exit
-- shows in the exit status that tests/misuse/run checks.
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
local cases = dofile(dir .. "/cases.lua")
local case = cases[tonumber(arg[1])]
-- the temporary files a case makes (os.tmpname(), and what it writes next to them: p .. ".st",
-- a checkpoint's p.tmp.PID) are removed when it is done
local tmpname, made = os.tmpname, {}
function os.tmpname()
  local p = tmpname()
  made[#made + 1] = p
  return p
end
local chunk = assert(load(case[2], "=case", "t"))
local ok, err = pcall(chunk)
io.stdout:write(ok and "MISUSE-NOERROR\n" or "MISUSE-ERROR\n" .. tostring(err) .. "\n")
io.stdout:flush()
collectgarbage()
for _, p in ipairs(made) do
  if p:match("^[%w/_.-]+$") then os.execute("rm -f -- " .. p .. " " .. p .. ".*") end
end
