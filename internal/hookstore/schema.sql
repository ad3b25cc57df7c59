-- The hook shield's shared state (package hookstore). Idempotent: every
-- replica runs it at start, under an advisory lock. Times are the callers'
-- clocks (the hook servers'), as the memory shield's are; windows and
-- durations are passed in microseconds.

CREATE TABLE IF NOT EXISTS hook_shield_key (
	id  int PRIMARY KEY CHECK (id = 1),
	key bytea NOT NULL
);

-- The Entra back-off and the circuit breaker. Every admit and record locks
-- this one row first, which serialises them across replicas.
CREATE TABLE IF NOT EXISTS hook_shield_state (
	id            int PRIMARY KEY CHECK (id = 1),
	backoff_until timestamptz NOT NULL,
	breaker_until timestamptz NOT NULL,
	trips         bigint NOT NULL
);
INSERT INTO hook_shield_state (id, backoff_until, breaker_until, trips)
VALUES (1, '-infinity', '-infinity', 0) ON CONFLICT (id) DO NOTHING;

CREATE SEQUENCE IF NOT EXISTS hook_shield_charge_ids;

-- Charges: kind 'u' (key: normalised username), 'i' (key: address budget
-- key) or 'g' (key: ''); one id in each budget a check was charged to.
-- settled: Entra answered and may have counted it.
CREATE TABLE IF NOT EXISTS hook_shield_charges (
	kind    "char" NOT NULL,
	key     text NOT NULL,
	id      bigint NOT NULL,
	at      timestamptz NOT NULL,
	settled boolean NOT NULL DEFAULT false,
	PRIMARY KEY (kind, key, id)
);
CREATE INDEX IF NOT EXISTS hook_shield_charges_at ON hook_shield_charges (kind, key, at);
CREATE INDEX IF NOT EXISTS hook_shield_charges_sweep ON hook_shield_charges (kind, at);

-- A user's checks pause until "until" after an Entra lockout (AADSTS50053)
-- or per-user throttling (AADSTS50196).
CREATE TABLE IF NOT EXISTS hook_shield_cooldowns (
	username text PRIMARY KEY,
	until    timestamptz NOT NULL
);

-- The negative cache: pair is HMAC-SHA256 under hook_shield_key.key of the
-- username and password, never the password.
CREATE TABLE IF NOT EXISTS hook_shield_rejections (
	pair    bytea PRIMARY KEY,
	expires timestamptz NOT NULL,
	code    int NOT NULL,
	reason  text NOT NULL
);
CREATE INDEX IF NOT EXISTS hook_shield_rejections_expires ON hook_shield_rejections (expires);

-- hook_shield_admit is hook's shield.admit: whether a check of p_user from
-- the address budget p_ip ('' = not charged to one) may reach Entra at
-- p_now and, if so, its charge to every budget, in one transaction. reason
-- is '' when admitted (charge_id is then the charge), else why not; tripped
-- is true when this refusal opened the circuit breaker.
CREATE OR REPLACE FUNCTION hook_shield_admit(
	p_user text, p_ip text, p_now timestamptz,
	user_window_us bigint, user_horizon_us bigint, user_attempts int, user_daily int,
	ip_window_us bigint, ip_attempts int,
	global_window_us bigint, global_failures int, breaker_cooldown_us bigint,
	OUT charge_id bigint, OUT reason text, OUT tripped boolean)
LANGUAGE plpgsql AS $$
DECLARE
	st     hook_shield_state%ROWTYPE;
	cool   timestamptz;
	us     constant interval := interval '1 microsecond';
BEGIN
	charge_id := 0;
	reason := '';
	tripped := false;
	SELECT * INTO st FROM hook_shield_state WHERE id = 1 FOR UPDATE;
	IF p_now < st.backoff_until THEN
		reason := 'entra_backoff';
		RETURN;
	END IF;
	IF p_now < st.breaker_until THEN
		reason := 'breaker_open';
		RETURN;
	END IF;
	DELETE FROM hook_shield_charges WHERE kind = 'u' AND key = p_user AND at <= p_now - user_horizon_us * us;
	SELECT c.until INTO cool FROM hook_shield_cooldowns c WHERE c.username = p_user;
	IF (cool IS NOT NULL AND p_now < cool)
		OR (SELECT count(*) FROM hook_shield_charges WHERE kind = 'u' AND key = p_user AND at > p_now - user_window_us * us) >= user_attempts
		OR (SELECT count(*) FROM hook_shield_charges WHERE kind = 'u' AND key = p_user AND at > p_now - user_horizon_us * us) >= user_daily THEN
		reason := 'user_budget';
		RETURN;
	END IF;
	IF p_ip <> '' THEN
		DELETE FROM hook_shield_charges WHERE kind = 'i' AND key = p_ip AND at <= p_now - ip_window_us * us;
		IF (SELECT count(*) FROM hook_shield_charges WHERE kind = 'i' AND key = p_ip AND at > p_now - ip_window_us * us) >= ip_attempts THEN
			reason := 'ip_budget';
			RETURN;
		END IF;
	END IF;
	IF global_failures > 0 THEN
		DELETE FROM hook_shield_charges WHERE kind = 'g' AND key = '' AND at <= p_now - global_window_us * us;
		IF (SELECT count(*) FROM hook_shield_charges WHERE kind = 'g' AND key = '' AND at > p_now - global_window_us * us) >= global_failures THEN
			UPDATE hook_shield_state SET breaker_until = p_now + breaker_cooldown_us * us, trips = trips + 1 WHERE id = 1;
			reason := 'breaker_open';
			tripped := true;
			RETURN;
		END IF;
	END IF;
	charge_id := nextval('hook_shield_charge_ids');
	INSERT INTO hook_shield_charges (kind, key, id, at) VALUES ('u', p_user, charge_id, p_now);
	IF p_ip <> '' THEN
		INSERT INTO hook_shield_charges (kind, key, id, at) VALUES ('i', p_ip, charge_id, p_now);
	END IF;
	IF global_failures > 0 THEN
		INSERT INTO hook_shield_charges (kind, key, id, at) VALUES ('g', '', charge_id, p_now);
	END IF;
END
$$;

-- hook_shield_record is hook's shield.record: what Entra's answer to the
-- charge p_id teaches, in one transaction. p_counted: Entra may have counted
-- it (settle it; else give it back to every budget); p_verified: clear the
-- user's settled charges and cool-down; p_rejected: remember p_pair for
-- p_negative_ttl_us; p_cool_us > 0: cool the user down that long;
-- p_backoff_us > 0: pause every check that long (never shortening a pause).
CREATE OR REPLACE FUNCTION hook_shield_record(
	p_id bigint, p_user text, p_ip text, p_global boolean, p_now timestamptz,
	p_counted boolean, p_verified boolean, p_rejected boolean, p_pair bytea, p_code int, p_reason text,
	p_negative_ttl_us bigint, p_cool_us bigint, p_backoff_us bigint)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	us constant interval := interval '1 microsecond';
BEGIN
	PERFORM 1 FROM hook_shield_state WHERE id = 1 FOR UPDATE;
	IF p_counted THEN
		UPDATE hook_shield_charges SET settled = true WHERE kind = 'u' AND key = p_user AND id = p_id;
	ELSE
		DELETE FROM hook_shield_charges WHERE kind = 'u' AND key = p_user AND id = p_id;
		IF p_ip <> '' THEN
			DELETE FROM hook_shield_charges WHERE kind = 'i' AND key = p_ip AND id = p_id;
		END IF;
		IF p_global THEN
			DELETE FROM hook_shield_charges WHERE kind = 'g' AND key = '' AND id = p_id;
		END IF;
	END IF;
	IF p_verified THEN
		DELETE FROM hook_shield_charges WHERE kind = 'u' AND key = p_user AND settled;
		DELETE FROM hook_shield_cooldowns WHERE username = p_user;
	END IF;
	IF p_rejected THEN
		INSERT INTO hook_shield_rejections (pair, expires, code, reason)
		VALUES (p_pair, p_now + p_negative_ttl_us * us, p_code, p_reason)
		ON CONFLICT (pair) DO UPDATE SET expires = EXCLUDED.expires, code = EXCLUDED.code, reason = EXCLUDED.reason;
	END IF;
	IF p_cool_us > 0 THEN
		INSERT INTO hook_shield_cooldowns (username, until) VALUES (p_user, p_now + p_cool_us * us)
		ON CONFLICT (username) DO UPDATE SET until = EXCLUDED.until;
	END IF;
	IF p_backoff_us > 0 THEN
		UPDATE hook_shield_state SET backoff_until = greatest(backoff_until, p_now + p_backoff_us * us) WHERE id = 1;
	END IF;
END
$$;

-- hook_shield_sweep deletes what can no longer refuse or count a check at
-- p_now and returns how many rows it deleted.
CREATE OR REPLACE FUNCTION hook_shield_sweep(p_now timestamptz, user_horizon_us bigint, ip_window_us bigint, global_window_us bigint)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	us constant interval := interval '1 microsecond';
	n  bigint := 0;
	k  bigint;
BEGIN
	DELETE FROM hook_shield_charges WHERE kind = 'u' AND at <= p_now - user_horizon_us * us;
	GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
	DELETE FROM hook_shield_charges WHERE kind = 'i' AND at <= p_now - ip_window_us * us;
	GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
	DELETE FROM hook_shield_charges WHERE kind = 'g' AND at <= p_now - global_window_us * us;
	GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
	DELETE FROM hook_shield_cooldowns WHERE until <= p_now;
	GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
	DELETE FROM hook_shield_rejections WHERE expires <= p_now;
	GET DIAGNOSTICS k = ROW_COUNT; n := n + k;
	RETURN n;
END
$$;
