-- post.lua — wrk script: POST /bootAuth/app with a KMS-shaped BootInfo.
-- BODY comes from the environment. With MISS=1 every request gets a fresh
-- tcbStatus, so every request is a cache miss (a round trip to the chain).
-- TARGET overrides the path (bench.js posts JSON-RPC views to nemu-rpc at /);
-- with BODIES (one body per line) the requests cycle through them.
local body = os.getenv("BODY")
local bodies = {}
for line in (os.getenv("BODIES") or ""):gmatch("[^\n]+") do bodies[#bodies + 1] = line end
local target = os.getenv("TARGET") or "/bootAuth/app"
local miss = os.getenv("MISS") == "1"
local counter = 0
-- setup() runs in wrk's main Lua state and gives each thread its own global
-- `tid`; a `local tid` here would shadow that global in every thread, so all
-- threads would send the same "Miss-0-N" bodies (cache hits, not misses).
local nthreads = 0
setup = function(thread) thread:set("tid", nthreads); nthreads = nthreads + 1 end
request = function()
  local b = body
  if #bodies > 0 then
    counter = counter + 1
    b = bodies[(counter - 1) % #bodies + 1]
  elseif miss then
    counter = counter + 1
    b = body:gsub("UpToDate", "Miss-" .. tostring(tid) .. "-" .. tostring(counter))
  end
  return wrk.format("POST", target, { ["Content-Type"] = "application/json" }, b)
end
