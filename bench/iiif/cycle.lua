-- wrk script: cycle through a file of request paths, one per line, so that every request
-- asks for a different URL (a server cannot answer a benchmark from one cached tile).
--   wrk -t2 -c4 -d10s --latency -s cycle.lua http://host:port -- urls.txt OFFSET THREADS
-- Thread i starts at OFFSET + i * n / THREADS, so the threads walk different parts of the
-- list. done() prints one line the benchmark parses: "SENBENCH {json}", times in µs.

local queue = {}
local position = 1
local count = 0

function setup(thread)
  thread:set("index", count)
  count = count + 1
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      queue[#queue + 1] = wrk.format("GET", line)
    end
  end
  local offset = tonumber(args[2] or "0")
  local threads = tonumber(args[3] or "1")
  position = (offset + math.floor(#queue * index / threads)) % #queue + 1
end

function request()
  local r = queue[position]
  position = position % #queue + 1
  return r
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'SENBENCH {"requests": %d, "duration_us": %d, "bytes": %d, "status_errors": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
