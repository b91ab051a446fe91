-- FROZEN: policy/schema.sql exactly as schema version 1 shipped it (commit 1c90ec3).
-- agent/policy_test.c builds a version 1 database from it to test the 1 -> 2 migration;
-- never edit it. The schema in force is policy/schema.sql.
-- sluice policy database, schema version 1 (PRAGMA user_version).
--
-- sluiced decides allow or deny for every new flow from this file. Edit it
-- with the plain sqlite3 CLI while the filter runs; a committed change is in
-- force within a second, no restart needed:
--
--   sqlite3 /var/lib/sluice/policy.db \
--     "INSERT INTO rules(action, proto, dst, dst_port, comment)
--      VALUES ('deny', 'tcp', '203.0.113.0/24', '25', 'no SMTP out')"
--
-- Every column a person types is checked when the row is written: a bad row
-- is refused with an error that names the column and what it wants. The
-- checks are the triggers at the end of this file. PRAGMA
-- ignore_check_constraints=1 switches them off like it does CHECK
-- constraints; sluiced then refuses the bad row itself, names it, and keeps
-- the last good policy in force.
PRAGMA user_version = 1;

CREATE TABLE rules (
	-- One rule a row. A flow matches a rule when every non-NULL column
	-- matches; the enabled rule with the lowest priority (then the lowest
	-- id) that matches decides. When none matches, settings.default_action
	-- decides. Bad values are refused by the trigger rules_check_row.
	id        INTEGER PRIMARY KEY,
	priority  INTEGER NOT NULL DEFAULT 100,  -- lower first; first match wins
	action    TEXT NOT NULL,                 -- 'allow' | 'deny'
	direction TEXT NOT NULL DEFAULT 'any',   -- 'in' | 'out' | 'forward' | 'any'
	proto     TEXT,                          -- 'tcp' | 'udp' | 'icmp' | 'icmpv6' | NULL = any
	src       TEXT,                          -- CIDR, IPv4 or IPv6 ('10.0.0.0/8', '2001:db8::/32'); an address alone is /32 or /128; NULL = any
	dst       TEXT,                          -- CIDR, as src; host bits after the prefix are ignored
	dst_port  TEXT,                          -- '443' or '8000-8100' (inclusive), 1..65535; NULL = any
	domain    TEXT,                          -- 'example.com' exact, '*.example.com' any subdomain (not example.com itself); case and a trailing dot do not matter
	uid       INTEGER,                       -- owner of the local socket; NULL = any
	exe       TEXT,                          -- absolute path of the local program, compared exactly; NULL = any
	enabled   INTEGER NOT NULL DEFAULT 1,    -- 1 in force, 0 ignored (not even checked by sluiced)
	comment   TEXT                           -- free text for people
);

CREATE TABLE settings (
	-- Global settings, one a key.
	--   default_action  'allow' | 'deny': what a flow no rule matches gets
	-- Inserting a key that exists replaces its value (trigger
	-- settings_upsert), so INSERT INTO settings VALUES ('default_action',
	-- 'deny') works without ON CONFLICT.
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL,
	CONSTRAINT "settings.default_action: must be 'allow' or 'deny'"
		CHECK (key != 'default_action' OR value IN ('allow', 'deny'))
);

-- The address part (before '/') and the prefix length (after it, NULL when
-- there is no '/') of every src and dst, one row a value.
CREATE VIEW rules_cidr AS
SELECT id, col, value,
       substr(value, 1, instr(value || '/', '/') - 1) AS addr,
       CASE WHEN instr(value, '/') > 0
            THEN substr(value, instr(value, '/') + 1) END AS plen
  FROM (SELECT id, 'src' AS col, src AS value FROM rules
        UNION ALL
        SELECT id, 'dst', dst FROM rules)
 WHERE value IS NOT NULL;

-- What is wrong with a src or dst, if anything:
--   'address'  not an IPv4 address (four decimal octets 0..255, no leading
--              zeros) nor an IPv6 address (hex groups of 1..4 digits split by
--              ':', at most one '::', optionally an IPv4 tail)
--   'prefix'   prefix length not 0..32 (IPv4) or 0..128 (IPv6)
-- The IPv6 test is a close approximation; sluiced parses every address with
-- inet_pton and refuses what slips through here.
CREATE VIEW rules_cidr_problems AS
SELECT id, col, value, family,
       CASE
       WHEN family IS NULL THEN 'address'
       WHEN family = 4 AND NOT (SELECT count(*) = 4
                                   AND min(o.value GLOB '[0-9]*')
                                   AND min(o.value = printf('%d', o.value))
                                   AND max(CAST(o.value AS INTEGER)) <= 255
                                  FROM json_each('["' || replace(addr, '.', '","') || '"]') AS o)
            THEN 'address'
       WHEN family = 6 AND NOT (
                addr NOT GLOB '*:::*'
            AND length(addr) - length(replace(addr, '::', '')) <= 2
            AND (addr NOT GLOB ':*' OR addr GLOB '::*')
            AND (addr NOT GLOB '*:' OR addr GLOB '*::')
            AND addr NOT GLOB '*.*:*'
            AND (addr NOT GLOB '*.*' OR addr GLOB '*:[0-9]*.[0-9]*.[0-9]*.[0-9]*')
            AND (SELECT min(length(g.value) <= 4 OR g.value GLOB '*.*')
                   FROM json_each('["' || replace(addr, ':', '","') || '"]') AS g)
            AND (SELECT CASE WHEN addr GLOB '*::*' THEN n <= 7 ELSE n = 8 END
                   FROM (SELECT sum(CASE WHEN g.value = '' THEN 0
                                         WHEN g.value GLOB '*.*' THEN 2
                                         ELSE 1 END) AS n
                           FROM json_each('["' || replace(addr, ':', '","') || '"]') AS g)))
            THEN 'address'
       WHEN plen IS NOT NULL
            AND (plen NOT GLOB '[0-9]*' OR plen != printf('%d', plen)
                 OR CAST(plen AS INTEGER) > CASE family WHEN 4 THEN 32 ELSE 128 END)
            THEN 'prefix'
       END AS problem
  FROM (SELECT *,
               CASE WHEN addr GLOB '*[^0-9a-fA-F:.]*' OR addr = '' THEN NULL
                    WHEN addr GLOB '*:*' THEN 6
                    WHEN addr NOT GLOB '*[^0-9.]*' THEN 4 END AS family
          FROM rules_cidr);

-- The checks of one rules row, run after every INSERT and UPDATE by the two
-- triggers below: inserting an id into this view runs them, stores nothing,
-- and RAISE(ABORT) undoes the statement that wrote the bad row.
CREATE VIEW rules_check AS SELECT id FROM rules WHERE 0;

CREATE TRIGGER rules_check_row INSTEAD OF INSERT ON rules_check
BEGIN
	-- Every check of a rules row, run after each INSERT and UPDATE
	-- (rules_check_insert, rules_check_update) unless
	-- PRAGMA ignore_check_constraints=1; sluiced checks again.
	SELECT RAISE(ABORT, 'rules.priority: must be an integer (lower runs first)')
	  FROM rules WHERE id = NEW.id AND typeof(priority) != 'integer';
	SELECT RAISE(ABORT, 'rules.action: must be ''allow'' or ''deny''')
	  FROM rules WHERE id = NEW.id AND action NOT IN ('allow', 'deny');
	SELECT RAISE(ABORT, 'rules.direction: must be ''in'', ''out'', ''forward'' or ''any''')
	  FROM rules WHERE id = NEW.id AND direction NOT IN ('in', 'out', 'forward', 'any');
	SELECT RAISE(ABORT, 'rules.proto: must be ''tcp'', ''udp'', ''icmp'', ''icmpv6'' or NULL for any')
	  FROM rules WHERE id = NEW.id AND proto NOT IN ('tcp', 'udp', 'icmp', 'icmpv6');
	SELECT RAISE(ABORT, 'rules.src: not an IPv4 or IPv6 address with an optional /prefix, e.g. 10.0.0.0/8 or 2001:db8::/32')
	  FROM rules_cidr_problems WHERE id = NEW.id AND col = 'src' AND problem = 'address';
	SELECT RAISE(ABORT, 'rules.src: prefix length out of range, IPv4 takes /0 to /32 and IPv6 /0 to /128')
	  FROM rules_cidr_problems WHERE id = NEW.id AND col = 'src' AND problem = 'prefix';
	SELECT RAISE(ABORT, 'rules.dst: not an IPv4 or IPv6 address with an optional /prefix, e.g. 10.0.0.0/8 or 2001:db8::/32')
	  FROM rules_cidr_problems WHERE id = NEW.id AND col = 'dst' AND problem = 'address';
	SELECT RAISE(ABORT, 'rules.dst: prefix length out of range, IPv4 takes /0 to /32 and IPv6 /0 to /128')
	  FROM rules_cidr_problems WHERE id = NEW.id AND col = 'dst' AND problem = 'prefix';
	SELECT RAISE(ABORT, 'rules.src, rules.dst: one is IPv4 and the other IPv6, so the rule could never match')
	  FROM rules WHERE id = NEW.id AND (src GLOB '*:*') != (dst GLOB '*:*');
	SELECT RAISE(ABORT, 'rules.dst_port: must be a port 1..65535 or a range lo-hi of them, e.g. 443 or 8000-8100')
	  FROM rules WHERE id = NEW.id AND NOT (
		(dst_port = printf('%d', dst_port)
		 AND CAST(dst_port AS INTEGER) BETWEEN 1 AND 65535)
		OR (dst_port GLOB '[1-9]*-[1-9]*'
		    AND dst_port = printf('%d-%d', dst_port,
					  substr(dst_port, instr(dst_port, '-') + 1))
		    AND CAST(dst_port AS INTEGER) BETWEEN 1 AND 65535
		    AND CAST(substr(dst_port, instr(dst_port, '-') + 1) AS INTEGER)
			BETWEEN 1 AND 65535));
	SELECT RAISE(ABORT, 'rules.dst_port: range lo-hi must have lo <= hi')
	  FROM rules WHERE id = NEW.id AND CAST(dst_port AS INTEGER) >
		CAST(substr(dst_port, instr(dst_port, '-') + 1) AS INTEGER);
	SELECT RAISE(ABORT, 'rules.domain: must be a DNS name such as example.com, or *.example.com for any subdomain')
	  FROM rules WHERE id = NEW.id AND domain IS NOT NULL AND (
		typeof(domain) != 'text' OR length(domain) NOT BETWEEN 1 AND 254
		OR domain GLOB '*[^a-zA-Z0-9.*_-]*' OR domain GLOB '*..*'
		OR domain GLOB '.*' OR domain = '*.' OR domain = '*.*'
		OR replace(substr(domain, CASE WHEN domain GLOB '[*].*' THEN 2 ELSE 1 END), '*', '') !=
		   substr(domain, CASE WHEN domain GLOB '[*].*' THEN 2 ELSE 1 END));
	SELECT RAISE(ABORT, 'rules.uid: must be an integer 0..4294967294')
	  FROM rules WHERE id = NEW.id AND uid IS NOT NULL AND NOT (typeof(uid) = 'integer' AND uid BETWEEN 0 AND 4294967294);
	SELECT RAISE(ABORT, 'rules.exe: must be an absolute path, starting with /')
	  FROM rules WHERE id = NEW.id AND exe IS NOT NULL AND NOT (typeof(exe) = 'text' AND exe GLOB '/*');
	SELECT RAISE(ABORT, 'rules.enabled: must be 1 (in force) or 0 (ignored)')
	  FROM rules WHERE id = NEW.id AND enabled NOT IN (0, 1);
END;

-- Checks are skipped, like CHECK constraints, under
-- PRAGMA ignore_check_constraints=1.
CREATE TRIGGER rules_check_insert AFTER INSERT ON rules
WHEN NOT (SELECT ignore_check_constraints FROM pragma_ignore_check_constraints)
BEGIN
	INSERT INTO rules_check(id) VALUES (NEW.id);
END;

CREATE TRIGGER rules_check_update AFTER UPDATE ON rules
WHEN NOT (SELECT ignore_check_constraints FROM pragma_ignore_check_constraints)
BEGIN
	INSERT INTO rules_check(id) VALUES (NEW.id);
END;

-- An existing key is updated in place instead of failing on the primary key.
CREATE TRIGGER settings_upsert BEFORE INSERT ON settings
WHEN EXISTS (SELECT 1 FROM settings WHERE key = NEW.key)
BEGIN
	UPDATE settings SET value = NEW.value WHERE key = NEW.key;
	SELECT RAISE(IGNORE);
END;
