<?php
// A Courier Invoice customer's webhook receiver, written as Courier Invoice's documentation says:
// regenerate the X-CI-AUTH token from the webhook, your account number and the time value in the
// webhook with your Private API Key, and test it with hash_equals().
$privateKey = getenv('CI_PRIVATE_KEY');
$accountNumber = getenv('CI_ACCOUNT_NUMBER');

$webhook = file_get_contents('php://input');
$headers = array_change_key_case(getallheaders(), CASE_UPPER);
$token = $headers['X-CI-AUTH'] ?? bin2hex(random_bytes(1e4));
$data = json_decode($webhook, true);
$timeVal = $data['timestamp'] ?? '';

$verified = hash_equals(hash_hmac('sha256', $webhook . $accountNumber . $timeVal, $privateKey), $token);
$verdict = [
    'verified' => $verified,
    // The body is PHP's own json_encode output: decoding and re-encoding gives the same bytes.
    'sameBytes' => json_encode($data) === $webhook,
    'types' => array_map(fn ($entry) => $entry['type'], $data['Data'] ?? []),
];
file_put_contents(getenv('RECEIVED_LOG'), json_encode($verdict) . "\n", FILE_APPEND | LOCK_EX);
http_response_code($verified ? 200 : 401);
