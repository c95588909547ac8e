<?php
// A ShipStream customer's webhook receiver, as ShipStream's documentation says: the HMAC "message"
// is the entire request body, the "secret" is the webhook's secret_key, and the result must equal
// the X-Plugin-Hmac-Sha256 header.
$key = getenv('SHIPSTREAM_SECRET_KEY');
$json = file_get_contents('php://input');
$hmac = $_SERVER['HTTP_X_PLUGIN_HMAC_SHA256'] ?? '';
$calculated = base64_encode(hash_hmac('sha256', $json, $key, true));
$verified = hash_equals($calculated, $hmac);
$payload = json_decode($json, true);
$verdict = ['verified' => $verified, 'topic' => $payload['topic'] ?? null, 'message_id' => $payload['message_id'] ?? null];
file_put_contents(getenv('RECEIVED_LOG'), json_encode($verdict) . "\n", FILE_APPEND | LOCK_EX);
http_response_code($verified ? 200 : 401);
