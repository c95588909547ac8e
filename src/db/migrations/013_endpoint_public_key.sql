-- Ed25519 signing (Standard Webhooks' `v1a,`): the public key (`whpk_…`) of an endpoint whose
-- secret is an Ed25519 secret key, kept in the clear beside the sealed secret so answers and lists
-- can show it and the scheme without opening any secret. NULL: the endpoint signs with HMAC.
-- Every existing endpoint signs with HMAC (a `whsk_` secret was refused by the standard profile).
ALTER TABLE endpoints ADD COLUMN public_key text;
