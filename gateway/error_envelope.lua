-- Reshapes the transcoder's gRPC error body {"code":N,"message":...,"details":[...]}
-- into the envelope Kowalski and SkyPortal clients read: {"status":"error","message":...}.
-- The message itself is left byte for byte, so its JSON escaping stays valid.
-- The transcoder's own refusals of a request it cannot translate (a path or query value that
-- is not of its field's type, a body that is not JSON) come as text/plain: they are wrapped
-- in the same envelope.
-- A HEAD request gets its status and headers only: the transcoder writes a body for every
-- answer, which a HEAD response must not carry.
function envoy_on_request(request_handle)
  if request_handle:headers():get(":method") == "HEAD" then
    request_handle:streamInfo():dynamicMetadata():set("skymesh.gateway", "head", "1")
  end
end

local ESCAPES = {['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t"}

-- The length of the UTF-8 sequence that starts with byte, and the range its second byte
-- must be in (RFC 3629: no overlong forms, no surrogates); 0 for a byte no sequence starts with.
local function utf8_lead(byte)
  if byte < 0x80 then return 1, 0, 0 end
  if byte >= 0xC2 and byte <= 0xDF then return 2, 0x80, 0xBF end
  if byte == 0xE0 then return 3, 0xA0, 0xBF end
  if byte == 0xED then return 3, 0x80, 0x9F end
  if byte >= 0xE1 and byte <= 0xEF then return 3, 0x80, 0xBF end
  if byte == 0xF0 then return 4, 0x90, 0xBF end
  if byte >= 0xF1 and byte <= 0xF3 then return 4, 0x80, 0xBF end
  if byte == 0xF4 then return 4, 0x80, 0x8F end
  return 0, 0, 0
end

-- A JSON string of text: quotes, backslashes and control characters escaped, valid UTF-8
-- sequences kept, any other byte (a request's raw bytes, quoted back) as U+FFFD.
local function json_string(text)
  local out = {}
  local i, n = 1, string.len(text)
  while i <= n do
    local byte = string.byte(text, i)
    local size, low, high = utf8_lead(byte)
    local valid = size > 0 and i + size - 1 <= n
    for k = i + 1, i + size - 1 do
      local next_byte = string.byte(text, k)
      if k == i + 1 and (next_byte == nil or next_byte < low or next_byte > high) then
        valid = false
      elseif next_byte == nil or next_byte < 0x80 or next_byte > 0xBF then
        valid = false
      end
    end
    if not valid then
      out[#out + 1] = "\\ufffd"
      i = i + 1
    elseif size == 1 then
      local char = string.char(byte)
      out[#out + 1] = ESCAPES[char] or (byte < 0x20 and string.format("\\u%04x", byte)) or char
      i = i + 1
    else
      out[#out + 1] = string.sub(text, i, i + size - 1)
      i = i + size
    end
  end
  return '"' .. table.concat(out) .. '"'
end

function envoy_on_response(response_handle)
  local meta = response_handle:streamInfo():dynamicMetadata():get("skymesh.gateway")
  if meta ~= nil and meta["head"] == "1" then
    local body = response_handle:body()
    if body ~= nil and body:length() > 0 then
      body:setBytes("")
    end
    response_handle:headers():replace("content-length", "0")
    return
  end
  local status = tonumber(response_handle:headers():get(":status"))
  if status == nil or status < 400 then
    return
  end
  local content_type = response_handle:headers():get("content-type") or ""
  if string.find(content_type, "text/plain", 1, true) ~= nil then
    local body = response_handle:body()
    local text = body ~= nil and body:getBytes(0, body:length()) or ""
    local wrapped = '{"status":"error","message":' .. json_string(text) .. "}"
    if body ~= nil then
      body:setBytes(wrapped)
    end
    response_handle:headers():replace("content-type", "application/json")
    response_handle:headers():replace("content-length", tostring(string.len(wrapped)))
    return
  end
  if string.find(content_type, "application/json", 1, true) == nil then
    return
  end
  local body = response_handle:body()
  if body == nil then
    return
  end
  local text = body:getBytes(0, body:length())
  local reshaped, count = string.gsub(text, '^{"code":%s*%d+,', '{"status":"error",', 1)
  if count == 1 then
    body:setBytes(reshaped)
    response_handle:headers():replace("content-length", tostring(string.len(reshaped)))
  end
end
