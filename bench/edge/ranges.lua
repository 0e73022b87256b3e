-- wrk script for bench/edge.sh: every request asks one random range of
-- SPAN bytes (not aligned to any slice) of an object of SIZE bytes.
--
--   wrk -s ranges.lua http://127.0.0.1:8080/hot/100MiB -- SIZE SPAN

local size, span

function init(args)
  size = tonumber(args[1]) or 104857600
  span = tonumber(args[2]) or 1048576
  -- wrk runs one Lua state per thread: seed each differently.
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16))
end

function request()
  local first = math.random(0, size - span)
  return wrk.format(nil, nil, { ["Range"] = "bytes=" .. first .. "-" .. (first + span - 1) })
end
