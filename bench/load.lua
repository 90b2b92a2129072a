-- The request mix of one wrk run. bench/wrk.py prepends the data this needs:
--   PREFIX     "/api/v1" for the API, "/probe" for the bare probe
--   TENANTS    ordinary workspaces: {keys={...}, ws=, n= customers, cuids={...}}
--   BIG        the million-customer scope: {keys={...}, ws=, n=, deep_cursor=}
--   OPS        {{name, weight}, ...}: which requests, how often
--   NONCE      unique per run, so created external_ids never clash with an earlier run's
--   PACE_MS    0 for peak load; else each connection waits this long between requests
-- Both servers get the same requests and headers: the API reads the key, the probe the workspace.

local counter = 0
local total_weight = 0
for _, op in ipairs(OPS) do total_weight = total_weight + op[2] end

local thread_count = 0
function setup(thread)
   thread_count = thread_count + 1
   thread:set("THREAD", thread_count)
end

function init(args)
   math.randomseed(os.time() * 1000 + (THREAD or 0))
end

local function pick_op()
   local r = math.random() * total_weight
   for _, op in ipairs(OPS) do
      r = r - op[2]
      if r <= 0 then return op[1] end
   end
   return OPS[#OPS][1]
end

local function any_tenant()
   return TENANTS[math.random(#TENANTS)]
end

local function unique()
   counter = counter + 1
   return NONCE .. "-" .. (THREAD or 0) .. "-" .. counter
end

-- each builder answers: method, path (after PREFIX), tenant, body or nil
local builders = {
   get_display = function()
      local t = any_tenant()
      return "GET", "/customers/" .. math.random(t.n), t
   end,
   get_cuid = function()
      local t = any_tenant()
      return "GET", "/customers/" .. t.cuids[math.random(#t.cuids)], t
   end,
   list_first = function()
      return "GET", "/customers?limit=100", BIG
   end,
   list_deep = function()
      return "GET", "/customers?limit=100&cursor=" .. BIG.deep_cursor, BIG
   end,
   onboardings_active = function()
      return "GET", "/onboardings?status=active&limit=100", any_tenant()
   end,
   -- the dashboard's filtered pages (API only: bench/scenarios.py FILTERED_PAGES)
   list_range = function()
      return "GET", "/customers?limit=100&created[gte]=" .. BIG.range_start
         .. "&created[lt]=" .. BIG.deep_cursor, BIG
   end,
   list_multi = function()
      return "GET", "/customers?limit=100&lifecycle_stage=at_risk,churned", BIG
   end,
   list_search = function()
      return "GET", "/customers?limit=100&q=ustomer%20" .. math.random(100, 999), BIG
   end,
   onboardings_expand = function()
      return "GET", "/onboardings?status=active&limit=100&expand=customer", any_tenant()
   end,
   -- every create goes to ONE workspace: the contended case (one sequence, one index tail)
   post_customer = function()
      local u = unique()
      local body = '{"name":"Bench ' .. u .. '","domain":"b' .. u .. '.example.com",'
         .. '"lifecycle_stage":"onboarding","owner_email":"csm@pivotal.example",'
         .. '"external_id":"bench-' .. u .. '","metadata":{"source":"wrk"}}'
      return "POST", "/customers", TENANTS[1], body
   end,
   patch_customer = function()
      local t = any_tenant()
      return "PATCH", "/customers/" .. math.random(t.n), t, '{"name":"Renamed ' .. unique() .. '"}'
   end,
}

function request()
   local method, path, tenant, body = builders[pick_op()]()
   local key = tenant.keys[math.random(#tenant.keys)]
   local headers = {Authorization = "Bearer " .. key, ["X-Bench-Workspace"] = tenant.ws}
   if body then headers["Content-Type"] = "application/json" end
   return wrk.format(method, PREFIX .. path, headers, body)
end

if PACE_MS > 0 then
   function delay()
      return PACE_MS
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, '
      .. '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d, '
      .. '"mean_us": %.1f, "max_us": %d}\n',
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end
