-- Portal sessions can be ended (issue 16): every portal token carries its tenant's portal
-- generation, and `DELETE /v1/tenants/{tid}/portal-sessions` moves it on, so the tokens minted
-- before no longer verify. (Tokens also carry the tenant's `created_at`: a tenant deleted and
-- created again under the same id is another customer, and the old tokens are not theirs.)
ALTER TABLE tenants ADD COLUMN portal_generation integer NOT NULL DEFAULT 0;
