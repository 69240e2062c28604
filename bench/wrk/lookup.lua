-- wrk script of bench/benches/sharing_api.rs: GET <prefix><key><suffix>, the keys
-- taken in turn from the file named by GONGSHU_WRK_IDS (one a line, written
-- shuffled by the bench), each wrk thread starting at a different place.
--   GONGSHU_WRK_IDS=ids.txt GONGSHU_WRK_PREFIX=/api/v1/services/RES/records/ \
--   wrk -t1 -c64 -d10s --latency -s bench/wrk/lookup.lua -H 'Authorization: Bearer …' http://127.0.0.1:PORT
local prefix = os.getenv("GONGSHU_WRK_PREFIX") or "/"
local suffix = os.getenv("GONGSHU_WRK_SUFFIX") or ""
local ids = {}
for line in io.lines(os.getenv("GONGSHU_WRK_IDS")) do
  if #line > 0 then ids[#ids + 1] = line end
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
  return wrk.format("GET", prefix .. ids[(counter % #ids) + 1] .. suffix)
end
