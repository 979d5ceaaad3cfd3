-- Reshapes the transcoder's gRPC error body {"code":N,"message":...,"details":[...]}
-- into the envelope Kowalski and SkyPortal clients read: {"status":"error","message":...}.
-- The message itself is left byte for byte, so its JSON escaping stays valid.
-- A HEAD request gets its status and headers only: the transcoder writes a body for every
-- answer, which a HEAD response must not carry.
function envoy_on_request(request_handle)
  if request_handle:headers():get(":method") == "HEAD" then
    request_handle:streamInfo():dynamicMetadata():set("skymesh.gateway", "head", "1")
  end
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
