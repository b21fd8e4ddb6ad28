-- POSTs the 202-byte body with a bearer token taken in turn from BENCH_TOKENS (one a line).
local body = io.open(os.getenv("BENCH_BODY")):read("*a")
local requests, n, i = {}, 0, 0

init = function(args)
  for token in io.lines(os.getenv("BENCH_TOKENS")) do
    n = n + 1
    requests[n] = wrk.format("POST", nil, {
      ["Host"] = wrk.headers["Host"],
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. token,
    }, body)
  end
end

request = function()
  i = i % n + 1
  return requests[i]
end
