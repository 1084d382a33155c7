-- wrk script: POST /events with Divar's NEW_MESSAGE body, a unique message id per request.
-- Usage: wrk -s bench/wrk/events.lua URL -- <identification key> <run nonce>
-- Ids are "<nonce>-<thread>-<counter>", so no request is a duplicate within a run or across
-- runs against the same store. done() prints one JSON line the harness parses.

local threads = {}
local counter = 0
thread_id = 0 -- global: setup() sets it per thread
local nonce = "run"
local key = ""

function setup(thread)
   thread:set("thread_id", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   key = args[1] or ""
   nonce = args[2] or "run"
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["Authorization"] = key
end

local head = '{"type":"NEW_MESSAGE","metadata":{"subscription":"post-gZd7omnS"},'
   .. '"new_message":{"id":"'
local tail = '","conversation":{"id":"edbb9499-cccc-4d35-b21f-621fa95f2b3e","type":"POST",'
   .. '"post_token":"gZd7omnS"},"sender":{"side":"BUYER","type":"HUMAN"},"type":"TEXT",'
   .. '"sent_at":1729429926140000,"text":"سلام، این خودرو هنوز موجود است؟"}}'

function request()
   counter = counter + 1
   local body = head .. nonce .. "-" .. thread_id .. "-" .. counter .. tail
   return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
   io.write(string.format(
      '{"requests":%d,"duration_us":%d,"errors_connect":%d,"errors_read":%d,'
      .. '"errors_write":%d,"errors_status":%d,"errors_timeout":%d,'
      .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
      summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
      summary.errors.write, summary.errors.status, summary.errors.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean))
end
