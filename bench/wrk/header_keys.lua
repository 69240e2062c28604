-- wrk script of bench/benches/open_portal.rs: GET <path>, each request sending the
-- next secret of the file named by GONGSHU_WRK_KEYS (one a line) in the header
-- GONGSHU_WRK_HEADER, so that many developer keys share the load and no key's
-- per-minute rate is reached; each wrk thread starts at a different place.
--   GONGSHU_WRK_KEYS=keys.txt GONGSHU_WRK_HEADER=X-Api-Key \
--   GONGSHU_WRK_PATH='/api/v1/open/datasets/CODE/records?limit=100' \
--   wrk -t1 -c64 -d10s --latency -s bench/wrk/header_keys.lua http://127.0.0.1:PORT
local path = os.getenv("GONGSHU_WRK_PATH") or "/"
local header = os.getenv("GONGSHU_WRK_HEADER") or "X-Api-Key"
local keys = {}
for line in io.lines(os.getenv("GONGSHU_WRK_KEYS")) do
  if #line > 0 then keys[#keys + 1] = line end
end

local threads = 0
function setup(thread)
  thread:set("offset", threads * 7919)
  threads = threads + 1
end

local counter = 0
function init(args)
  counter = offset or 0
end

function request()
  counter = counter + 1
  return wrk.format("GET", path, { [header] = keys[(counter % #keys) + 1] })
end
