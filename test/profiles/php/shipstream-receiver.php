<?php
// A ShipStream webhook receiver written as ShipStream's document tells its customers: the HMAC
// "message" is the entire request body, the secret is the webhook's secret_key, compared with
// X-Plugin-Hmac-Sha256. Runs under `php -S` (HTTP) or the CLI (body on stdin, header in $argv[1]).
// Env: SHIPSTREAM_SECRET_KEY, RECEIVED_LOG (a file each verdict is appended to).
$key = getenv('SHIPSTREAM_SECRET_KEY');
if (PHP_SAPI === 'cli') {
    $json = stream_get_contents(STDIN);
    $hmac = $argv[1] ?? '';
} else {
    $json = file_get_contents('php://input');
    $hmac = $_SERVER['HTTP_X_PLUGIN_HMAC_SHA256'] ?? '';
}
$calculated = base64_encode(hash_hmac('sha256', $json, $key, true));
$verified = hash_equals($calculated, $hmac);
$payload = json_decode($json, true);
$verdict = [
    'verified' => $verified,
    'topic' => $payload['topic'] ?? null,
    'message_id' => $payload['message_id'] ?? null,
];
if (getenv('RECEIVED_LOG')) {
    file_put_contents(getenv('RECEIVED_LOG'), json_encode($verdict) . "\n", FILE_APPEND | LOCK_EX);
}
if (PHP_SAPI !== 'cli') http_response_code($verified ? 200 : 401);
echo json_encode($verdict);
