-- The fleet mix for wrk: every request picks a family (uniform or Zipf), then a kind by weight, and sends that
-- family's Host, cookies, CSRF token or bearer token. Each request carries X-Request-ID "<run>-<kind>-<thread>-<n>"
-- so bench/run.py can read per-kind server times and statuses from the app's JSON request log.
-- Arguments (after `--`): <families data file> <mode: mix|ceiling|sweep> <distribution: uniform|zipf> <run name>
--                         <first family index> <last family index> <wrk threads>
--
-- Mode `sweep` brings a server to steady state before the measured runs: no taps, no landing page, and request i
-- (counted over all threads) goes to family first + i mod N with the read kind SWEEP_KINDS[(pass + i) mod 6], so
-- every family is read once per pass and, over six passes, once in each kind. Each thread writes "SWEEP <tid> <n>"
-- every 250 requests it made; bench/run.py stops wrk (SIGINT) once every thread made its share of the passes.
-- Sweep requests close their connection: a kept-alive connection stays on the gunicorn worker that accepted it
-- (24/76 measured), so each read of a family must pick its worker anew for every worker to meet every family.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

local families, mode, dist, run, first, last, nthreads
local cdf, order = nil, nil
local tap_next = {}
local apex

-- kind, weight (percent of requests)
local KINDS = {
  {"kid_view", 30}, {"tap_done", 10}, {"parent_today", 15}, {"api_chores", 10},
  {"api_my_assignments", 10}, {"api_points", 5}, {"api_leaderboard", 10}, {"landing", 10},
}
local kind_cdf = {}
-- The sweep's read kinds, in the order a family meets them pass after pass.
local SWEEP_KINDS = {"kid_view", "parent_today", "api_chores", "api_my_assignments", "api_points", "api_leaderboard"}

function init(args)
  families = dofile(args[1])
  mode, dist, run = args[2], args[3], args[4]
  first, last = tonumber(args[5]), tonumber(args[6])
  nthreads = tonumber(args[7])
  apex = families.apex
  math.randomseed(tid * 7919 + os.time())
  local total = 0
  for i, k in ipairs(KINDS) do total = total + k[2]; kind_cdf[i] = total end
  if dist == "zipf" then
    -- Zipf (s = 1) over the families in a fixed shuffled order, so the busiest families are spread over the fleet.
    local n = last - first + 1
    order = {}
    for i = 1, n do order[i] = first + i - 1 end
    local rng = 12345
    for i = n, 2, -1 do
      rng = (rng * 1103515245 + 12345) % 2147483648
      local j = rng % i + 1
      order[i], order[j] = order[j], order[i]
    end
    cdf = {}
    local sum = 0
    for k = 1, n do sum = sum + 1 / k; cdf[k] = sum end
    for k = 1, n do cdf[k] = cdf[k] / sum end
  end
end

local function pick_family()
  if dist == "zipf" then
    local r = math.random()
    local lo, hi = 1, #cdf
    while lo < hi do
      local mid = math.floor((lo + hi) / 2)
      if cdf[mid] < r then lo = mid + 1 else hi = mid end
    end
    return order[lo]
  end
  return math.random(first, last)
end

local function pick_kind()
  local r = math.random(1, kind_cdf[#kind_cdf])
  for i, bound in ipairs(kind_cdf) do
    if r <= bound then return KINDS[i][1] end
  end
end

-- Each thread uses its own share of a family's tap assignments (index tid, tid + nthreads, …).
local function next_tap(index)
  local f = families[index]
  local used = tap_next[index] or 0
  local slot = tid + used * nthreads
  if slot > #f.taps then return nil end
  tap_next[index] = used + 1
  return f.taps[slot]
end

-- Request i of the sweep over all threads (thread t makes i = t - 1, t - 1 + nthreads, …): its family and kind.
local function sweep_pick()
  local i = (counter - 1) * nthreads + (tid - 1)
  local n = last - first + 1
  local pass = math.floor(i / n)
  local offset = i % n
  if counter % 250 == 0 then io.write("SWEEP " .. tid .. " " .. counter .. "\n"); io.stdout:flush() end
  return first + offset, SWEEP_KINDS[(pass + offset) % #SWEEP_KINDS + 1]
end

function request()
  counter = counter + 1
  local index, kind
  if mode == "sweep" then
    index, kind = sweep_pick()
  else
    index = pick_family()
    kind = mode == "ceiling" and "ceiling" or pick_kind()
  end
  local f = families[index]
  local headers = {["Host"] = f.host}
  local method, path, body = "GET", nil, nil
  if kind == "ceiling" then
    path = "/_bench/ceiling"
  elseif kind == "kid_view" then
    path = "/me"; headers["Cookie"] = f.kid_cookie
  elseif kind == "tap_done" then
    local tap = next_tap(index)
    if tap == nil then  -- this family's taps are used up: tap in a family picked uniformly instead
      index = math.random(first, last); f = families[index]; headers["Host"] = f.host; tap = next_tap(index)
    end
    if tap == nil then
      kind = "kid_view"; path = "/me"; headers["Cookie"] = f.kid_cookie
    else
      method, path, body = "POST", "/me/assignments/" .. tap .. "/complete", ""
      headers["Cookie"] = f.kid_cookie; headers["X-CSRFToken"] = families.csrf; headers["HX-Request"] = "true"
      headers["Content-Type"] = "application/x-www-form-urlencoded"
    end
  elseif kind == "parent_today" then
    path = "/today"; headers["Cookie"] = f.parent_cookie
  elseif kind == "api_chores" then
    path = "/api/chores"; headers["Authorization"] = "Bearer " .. f.parent_jwt
  elseif kind == "api_my_assignments" then
    path = "/api/assignments/my-assignments"; headers["Authorization"] = "Bearer " .. f.kid_jwt
  elseif kind == "api_points" then
    path = "/api/users/" .. f.kid_id .. "/points"; headers["Authorization"] = "Bearer " .. f.parent_jwt
  elseif kind == "api_leaderboard" then
    path = "/api/leaderboard/weekly"; headers["Authorization"] = "Bearer " .. f.kid_jwt
  else
    path = "/"; headers["Host"] = apex
  end
  if mode == "sweep" then headers["Connection"] = "close" end
  headers["X-Request-ID"] = run .. "-" .. kind .. "-" .. tid .. "-" .. counter
  return wrk.format(method, path, headers, body)
end

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "rps": %.2f, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, ' ..
    '"max_ms": %.2f, "connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, ' ..
    '"status_errors": %d}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout, non2xx))
end
