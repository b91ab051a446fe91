-- sluice policy database, schema version 4 (PRAGMA user_version).
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
-- the last good policy in force (a restarted sluiced enforces the copy of
-- it in PATH.last-good).
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

-- Further settings the agent reads are listed, with every value they take,
-- in the view settings_values (schema version 3).
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

-- @@ schema version 2 @@
-- Everything from the line above to the next marker came with schema
-- version 2: sluiced brings a version 1 file up to date by running exactly
-- this part and the ones after it (after saving the file as PATH.bak-v1).
-- Keep it that way: a change to the schema appends a new part with a new
-- marker.

CREATE TABLE lists (
	-- A named blocklist (or allowlist) of domain patterns, the patterns in
	-- list_domains. A list acts as one rule whose only condition is "the
	-- flow's name matches one of the list's patterns". Lists and rules
	-- form one first-match order: lower priority first; on equal priority
	-- every rule goes before every list (a hand-written exception at the
	-- default priority beats an imported list); lists among themselves by
	-- id. A flow whose name is unknown never matches a list.
	id       INTEGER PRIMARY KEY,
	name     TEXT NOT NULL UNIQUE,           -- what people and sluicectl import --list call it
	action   TEXT NOT NULL DEFAULT 'deny',   -- 'allow' | 'deny'
	priority INTEGER NOT NULL DEFAULT 100,   -- lower first, as rules.priority
	enabled  INTEGER NOT NULL DEFAULT 1,     -- 1 in force, 0 ignored
	source   TEXT,                           -- where the list came from (a URL, a file), for people
	comment  TEXT,                           -- free text for people
	CONSTRAINT "lists.name: must be a non-empty name such as 'ads'"
		CHECK (typeof(name) = 'text' AND trim(name) != ''),
	CONSTRAINT "lists.action: must be 'allow' or 'deny'"
		CHECK (action IN ('allow', 'deny')),
	CONSTRAINT "lists.priority: must be an integer (lower runs first)"
		CHECK (typeof(priority) = 'integer'),
	CONSTRAINT "lists.enabled: must be 1 (in force) or 0 (ignored)"
		CHECK (enabled IN (0, 1))
);

CREATE TABLE list_domains (
	-- One pattern of one list a row: 'ads.example.com' is that name
	-- exactly, '*.ads.example.com' any name below it (not itself), as
	-- rules.domain. Stored in lower case without a trailing dot, so that
	-- a name is in a list once: INSERT INTO list_domains refuses
	-- 'Ads.Example.COM.', while the list_import view below (and sluicectl
	-- import) turn it into 'ads.example.com' and skip patterns the list
	-- has already. No trigger normalises here: a trigger costs a few
	-- microseconds a row, which a million-name import feels.
	-- Names are ASCII: write an internationalised name in its A-label
	-- (xn--) form; sluice does not convert Unicode.
	list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
	domain  TEXT NOT NULL,
	PRIMARY KEY (list_id, domain),
	CONSTRAINT "list_domains.domain: is not ASCII; write an internationalised name in its A-label form, e.g. xn--bcher-kva.example"
		CHECK (typeof(domain) != 'text' OR length(CAST(domain AS BLOB)) = length(domain)),
	CONSTRAINT "list_domains.domain: must be a lower-case DNS name without a trailing dot, such as ads.example.com, or *.ads.example.com for any name below it (the list_import view normalises)"
		CHECK (typeof(domain) = 'text' AND length(domain) BETWEEN 1 AND 253
		       AND domain NOT GLOB '*[^a-z0-9.*_-]*' AND domain NOT GLOB '*..*'
		       AND domain NOT GLOB '.*' AND domain NOT GLOB '*.'
		       AND substr(domain, CASE WHEN domain GLOB '[*].?*' THEN 3 ELSE 1 END)
			   NOT GLOB '*[*]*'),
	CONSTRAINT "list_domains.domain: a label (the text between two dots) is longer than 63 bytes"
		CHECK (domain NOT GLOB '*' || replace(printf('%.64c', '?'), '?', '[^.]') || '*')
) WITHOUT ROWID;

-- The sqlite3 CLI does not enforce REFERENCES unless PRAGMA foreign_keys=1,
-- so these two keep list_domains tied to lists without it.
CREATE TRIGGER list_domains_check_list BEFORE INSERT ON list_domains
WHEN NOT EXISTS (SELECT 1 FROM lists WHERE id = NEW.list_id)
 AND NOT (SELECT ignore_check_constraints FROM pragma_ignore_check_constraints)
BEGIN
	SELECT RAISE(ABORT, 'list_domains.list_id: no list has this id; create the list in lists first, or insert through the list_import view');
END;

CREATE TRIGGER lists_delete_domains AFTER DELETE ON lists
BEGIN
	DELETE FROM list_domains WHERE list_id = OLD.id;
END;

-- Importing with the plain sqlite3 CLI. Inserting (list, domain) into
-- this view creates the list when no list has that name (action 'deny',
-- priority 100: UPDATE lists afterwards to change them) and files the
-- domain into it, in lower case without a trailing dot, unless the list
-- has it already. domain may also be a whole line of a hosts
-- file or of a plain domain list: '0.0.0.0 ads.example.com  # comment'
-- files ads.example.com (every name after the address, when there are
-- several); comments, blank lines, and localhost-style names are ignored.
-- A bad name stops only its own row: .import reports the file's line
-- number and goes on with the next.
--
--   A CSV file of list,domain rows:
--     sqlite3 policy.db ".import --csv ads.csv list_import"
--
--   A hosts file or one-name-a-line list, all into the list 'ads' (in
--   its default mode .import splits columns at '|'; lines holding one
--   are reported and their extra columns dropped):
--     sed 's/^/ads|/' hosts.txt | sqlite3 policy.db ".import /dev/stdin list_import"
--
-- `sluicectl import --list ads hosts.txt` does the same faster and reports
-- the bad lines in one summary.
CREATE VIEW list_import(list, domain) AS SELECT NULL, NULL WHERE 0;

CREATE TRIGGER list_import_row INSTEAD OF INSERT ON list_import
BEGIN
	SELECT RAISE(ABORT, 'list_import.list: must name the list to file the domain into, e.g. ''ads''')
	 WHERE typeof(NEW.list) != 'text' OR trim(NEW.list) = '';
	SELECT RAISE(ABORT, 'list_import.domain: contains a double quote, a backslash or a control character, so it is no domain name')
	 WHERE NEW.domain GLOB '*["\]*'
	    OR NEW.domain GLOB '*[' || char(1) || '-' || char(8) || char(11, 12) ||
			       char(14) || '-' || char(31) || char(127) || ']*';
	INSERT INTO lists(name)
	SELECT trim(NEW.list)
	 WHERE NOT EXISTS (SELECT 1 FROM lists WHERE name = trim(NEW.list));
	INSERT INTO list_domains(list_id, domain)
	SELECT l.id, lower(CASE WHEN w.value GLOB '*.' THEN substr(w.value, 1, length(w.value) - 1)
				ELSE w.value END)
	  FROM lists AS l,
	       (SELECT CASE WHEN first GLOB '*:*'
			      OR (first GLOB '[0-9]*.[0-9]*.[0-9]*.[0-9]*'
				  AND first NOT GLOB '*[^0-9.]*')
			    THEN rest ELSE line END AS names
		  FROM (SELECT line,
			       substr(line, 1, instr(line || ' ', ' ') - 1) AS first,
			       substr(line, instr(line || ' ', ' ') + 1) AS rest
			  FROM (SELECT trim(CASE WHEN instr(l0, '#') > 0
						 THEN substr(l0, 1, instr(l0, '#') - 1)
						 ELSE l0 END) AS line
				  FROM (SELECT replace(replace(replace(ifnull(NEW.domain, ''),
						char(9), ' '), char(13), ' '), char(10), ' ') AS l0)))) AS x,
	       json_each('["' || replace(x.names, ' ', '","') || '"]') AS w
	 WHERE l.name = trim(NEW.list)
	   AND w.value != ''
	   AND lower(rtrim(w.value, '.')) NOT IN ('localhost', 'localhost.localdomain',
		'local', 'broadcasthost', 'ip6-localhost', 'ip6-loopback', 'ip6-localnet',
		'ip6-mcastprefix', 'ip6-allnodes', 'ip6-allrouters', 'ip6-allhosts', '0.0.0.0')
	ON CONFLICT DO NOTHING;
END;

-- @@ schema version 3 @@
-- Version 3: the schema refuses everything sluiced would refuse, so that a
-- row sqlite3 accepts never stops a policy from compiling: label lengths
-- and the length of domains, NUL bytes and blobs in text columns, the IPv4
-- part of IPv6 addresses, and every settings value. The file is in WAL
-- mode from this version on (sluiced switches it when it opens the file),
-- so that sluiced reading a large policy never makes an edit fail with
-- "database is locked".

-- Every key sluiced reads from settings, and each value it understands.
-- Writing any other key or value into settings is refused. (Rows written
-- before version 3 with keys sluice does not know are kept and ignored.)
CREATE VIEW settings_values(key, value, meaning) AS VALUES
	('default_action', 'allow',    'a flow that no rule matches is allowed (the default)'),
	('default_action', 'deny',     'a flow that no rule matches is denied'),
	('sinkhole',       'nxdomain', 'a denied name gets NXDOMAIN (the default)'),
	('sinkhole',       'null',     'a denied name resolves to 0.0.0.0 and ::'),
	('block_dot',      'no',       'DNS over TLS/QUIC (port 853) follows the rules (the default)'),
	('block_dot',      'yes',      'DNS over TLS/QUIC (port 853), which hides names, is refused'),
	('block_doh',      'no',       'DNS over HTTPS follows the rules (the default)'),
	('block_doh',      'yes',      'well-known DNS-over-HTTPS servers are refused by name (SNI, Host, or the names the address was resolved from)'),
	('trusted_resolvers', '192.0.2.53, 2001:db8::53',
	 'IP addresses split by commas or spaces: when set, only answers from these servers teach sluiced which names an address has');

-- The checks of one settings row, run before every INSERT and UPDATE by
-- the two triggers below, as rules_check does for rules.
CREATE VIEW settings_check AS SELECT key, value FROM settings WHERE 0;

CREATE TRIGGER settings_check_row INSTEAD OF INSERT ON settings_check
BEGIN
	SELECT RAISE(ABORT, 'settings.key: not a setting sluice knows (default_action, sinkhole, block_dot, block_doh, trusted_resolvers); SELECT * FROM settings_values explains them')
	 WHERE NOT EXISTS (SELECT 1 FROM settings_values WHERE key = NEW.key);
	SELECT RAISE(ABORT, 'settings.default_action: must be ''allow'' or ''deny''')
	 WHERE NEW.key = 'default_action' AND NEW.value NOT IN ('allow', 'deny');
	SELECT RAISE(ABORT, 'settings.sinkhole: must be ''nxdomain'' or ''null''')
	 WHERE NEW.key = 'sinkhole' AND NEW.value NOT IN ('nxdomain', 'null');
	SELECT RAISE(ABORT, 'settings.block_dot: must be ''yes'' or ''no''')
	 WHERE NEW.key = 'block_dot' AND NEW.value NOT IN ('yes', 'no');
	SELECT RAISE(ABORT, 'settings.block_doh: must be ''yes'' or ''no''')
	 WHERE NEW.key = 'block_doh' AND NEW.value NOT IN ('yes', 'no');
	SELECT RAISE(ABORT, 'settings.trusted_resolvers: must be IP addresses split by commas or spaces')
	 WHERE NEW.key = 'trusted_resolvers' AND (typeof(NEW.value) <> 'text' OR
	       NEW.value GLOB '*[^0-9A-Fa-f:., ]*' OR NEW.value NOT GLOB '*[0-9A-Fa-f:]*');
	-- Whatever the lines above miss (a new key listed in settings_values only).
	SELECT RAISE(ABORT, 'settings.value: not a value this setting takes; SELECT * FROM settings_values lists them')
	 WHERE NEW.key <> 'trusted_resolvers' AND
	       NOT EXISTS (SELECT 1 FROM settings_values WHERE key = NEW.key AND value = NEW.value);
END;

CREATE TRIGGER settings_check_insert BEFORE INSERT ON settings
WHEN NOT (SELECT ignore_check_constraints FROM pragma_ignore_check_constraints)
BEGIN
	INSERT INTO settings_check(key, value) VALUES (NEW.key, NEW.value);
END;

CREATE TRIGGER settings_check_update BEFORE UPDATE ON settings
WHEN NOT (SELECT ignore_check_constraints FROM pragma_ignore_check_constraints)
BEGIN
	INSERT INTO settings_check(key, value) VALUES (NEW.key, NEW.value);
END;

-- IPv6 addresses of src and dst that end in an IPv4 address
-- ('::ffff:192.0.2.1'), whose IPv4 part is not four decimal octets 0..255
-- without leading zeros.
CREATE VIEW rules_cidr_v4_tail_problems AS
SELECT id, col, tail
  FROM (SELECT id, col, substr(addr, length(rtrim(addr, '0123456789.')) + 1) AS tail
	  FROM rules_cidr
	 WHERE addr GLOB '*:*' AND addr GLOB '*.*' AND addr NOT GLOB '*[^0-9a-fA-F:.]*')
 WHERE NOT (SELECT count(*) = 4
		   AND min(o.value GLOB '[0-9]*') AND min(o.value = printf('%d', o.value))
		   AND max(CAST(o.value AS INTEGER)) <= 255
	      FROM json_each('["' || replace(tail, '.', '","') || '"]') AS o);

-- The checks that version 3 adds to every rules row: they run with
-- rules_check_row, on the same view, after each INSERT and UPDATE.
CREATE TRIGGER rules_check_row_v3 INSTEAD OF INSERT ON rules_check
BEGIN
	-- Text columns hold text: a blob or a NUL byte (char(0)) gets in
	-- only through SQL functions, and sluiced cannot read either.
	SELECT RAISE(ABORT, 'rules.action: must be text without NUL bytes')
	  FROM rules WHERE id = NEW.id AND (typeof(action) = 'blob' OR instr(action, char(0)));
	SELECT RAISE(ABORT, 'rules.direction: must be text without NUL bytes')
	  FROM rules WHERE id = NEW.id AND (typeof(direction) = 'blob' OR instr(direction, char(0)));
	SELECT RAISE(ABORT, 'rules.proto: must be text without NUL bytes, or NULL')
	  FROM rules WHERE id = NEW.id AND (typeof(proto) = 'blob' OR instr(proto, char(0)));
	SELECT RAISE(ABORT, 'rules.src: must be text without NUL bytes, or NULL')
	  FROM rules WHERE id = NEW.id AND (typeof(src) = 'blob' OR instr(src, char(0)));
	SELECT RAISE(ABORT, 'rules.dst: must be text without NUL bytes, or NULL')
	  FROM rules WHERE id = NEW.id AND (typeof(dst) = 'blob' OR instr(dst, char(0)));
	SELECT RAISE(ABORT, 'rules.dst_port: must be text without NUL bytes, or NULL')
	  FROM rules WHERE id = NEW.id AND (typeof(dst_port) = 'blob' OR instr(dst_port, char(0)));
	SELECT RAISE(ABORT, 'rules.domain: must be text without NUL bytes, or NULL')
	  FROM rules WHERE id = NEW.id AND instr(domain, char(0));
	SELECT RAISE(ABORT, 'rules.exe: must be text without NUL bytes, or NULL')
	  FROM rules WHERE id = NEW.id AND (typeof(exe) = 'blob' OR instr(exe, char(0)));
	SELECT RAISE(ABORT, 'rules.src: the IPv4 part of an IPv6 address must be four numbers 0..255 without leading zeros, e.g. ::ffff:192.0.2.1')
	  FROM rules_cidr_v4_tail_problems WHERE id = NEW.id AND col = 'src';
	SELECT RAISE(ABORT, 'rules.dst: the IPv4 part of an IPv6 address must be four numbers 0..255 without leading zeros, e.g. ::ffff:192.0.2.1')
	  FROM rules_cidr_v4_tail_problems WHERE id = NEW.id AND col = 'dst';
	-- A DNS name: labels (the text between dots) of 1..63 bytes, at most
	-- 253 bytes without the leading '*.' and one trailing dot.
	SELECT RAISE(ABORT, 'rules.domain: a label (the text between two dots) is longer than 63 bytes')
	  FROM rules WHERE id = NEW.id
	   AND domain GLOB '*' || replace(printf('%.64c', '?'), '?', '[^.]') || '*';
	SELECT RAISE(ABORT, 'rules.domain: longer than 253 bytes (not counting a leading *. and a trailing dot)')
	  FROM rules WHERE id = NEW.id
	   AND length(rtrim(substr(domain, CASE WHEN domain GLOB '[*].*' THEN 3 ELSE 1 END), '.')) > 253;
END;

-- @@ schema version 4 @@
-- Version 4: rules on who a flow belongs to. The kernel module records,
-- when a flow starts, the local socket's owner, its cgroup and the program
-- that sent the packet; sluiced turns them into rules.uid, rules.exe and
-- the new rules.unit, and asks the module only while some enabled rule has
-- one of the three (a policy without them costs nothing). What is known:
--   uid   the local socket's owner: the sender's for outgoing flows, the
--         listening socket's for incoming ones; also for packets sent from
--         softirq or by kernel threads (TCP retransmissions, replies).
--   unit  the systemd unit of the socket's cgroup (fixed when the socket
--         was made, so a socket passed to another process keeps its
--         creator's unit); incoming flows: the listener's.
--   exe   the program that sent the first packet, from the task that sent
--         it (so a socket passed on names its sender); unknown for packets
--         sent from softirq or kernel threads and for incoming flows.
-- Forwarded flows have no local socket: all three are unknown. A rule
-- whose uid, exe or unit is unknown for a flow does not match it, and the
-- decision log shows "unknown".
--
--   rules.exe  '/usr/bin/curl' is that program exactly (the path the
--              kernel gives, symbolic links resolved); '/opt/app/*' any
--              program below /opt/app, in subdirectories too. A '*'
--              anywhere else is refused, as are paths the kernel never
--              writes (//, /./, /../, a trailing /). Rows written before
--              version 4 are kept; sluiced reads a '*' that is not the
--              last character of a trailing '/*' as a plain character.
--   rules.unit the unit exactly, e.g. 'nginx.service', 'user@1000.service',
--              'session-2.scope'. The unit of a cgroup is the innermost
--              .service or .scope in its path
--              (/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope
--              is x.scope); only a cgroup with none has a slice for unit
--              (a process put into demo.slice's own cgroup), so 'user.slice'
--              does not match the services inside that slice.

-- The systemd unit of the local socket's cgroup; NULL = any.
ALTER TABLE rules ADD COLUMN unit TEXT;

-- The checks that version 4 adds to every rules row, with rules_check_row.
-- sluiced refuses the same units; of these exe checks it refuses none
-- (rows written before version 4 keep working), they only spare people a
-- rule that can never match.
CREATE TRIGGER rules_check_row_v4 INSTEAD OF INSERT ON rules_check
BEGIN
	SELECT RAISE(ABORT, 'rules.unit: must be text without NUL bytes, or NULL')
	  FROM rules WHERE id = NEW.id AND (typeof(unit) = 'blob' OR instr(unit, char(0)));
	SELECT RAISE(ABORT, 'rules.unit: must be a systemd unit name of 1 to 255 bytes, e.g. nginx.service')
	  FROM rules WHERE id = NEW.id AND length(CAST(unit AS BLOB)) NOT BETWEEN 1 AND 255;
	SELECT RAISE(ABORT, 'rules.unit: may hold only letters, digits and : _ . - \ and one @ (systemd''s unit name characters)')
	  FROM rules WHERE id = NEW.id AND (unit GLOB '*[^-A-Za-z0-9:_.@\]*' OR unit GLOB '*@*@*');
	SELECT RAISE(ABORT, 'rules.unit: must end in .service, .scope or .slice (the units a cgroup names), e.g. nginx.service')
	  FROM rules WHERE id = NEW.id
	   AND unit NOT GLOB '*?.service' AND unit NOT GLOB '*?.scope' AND unit NOT GLOB '*?.slice';
	SELECT RAISE(ABORT, 'rules.unit: needs a name before its type, e.g. nginx.service')
	  FROM rules WHERE id = NEW.id AND unit GLOB '@*';
	SELECT RAISE(ABORT, 'rules.unit: is a template (name@.service), which never runs; name an instance such as getty@tty1.service')
	  FROM rules WHERE id = NEW.id
	   AND (unit GLOB '*@.service' OR unit GLOB '*@.scope' OR unit GLOB '*@.slice');
	SELECT RAISE(ABORT, 'rules.exe: a * may only end the path, as /dir/* for any program below /dir')
	  FROM rules WHERE id = NEW.id AND instr(exe, '*')
	   AND (exe NOT GLOB '*/[*]' OR instr(substr(exe, 1, length(exe) - 1), '*'));
	SELECT RAISE(ABORT, 'rules.exe: must be a path as the kernel writes it: no //, /./ or /../, no trailing /')
	  FROM rules WHERE id = NEW.id
	   AND (exe GLOB '*//*' OR exe GLOB '*/./*' OR exe GLOB '*/../*' OR exe GLOB '*/.'
		OR exe GLOB '*/..' OR exe GLOB '*/');
	SELECT RAISE(ABORT, 'rules.exe: longer than 4095 bytes, the longest path the kernel gives')
	  FROM rules WHERE id = NEW.id AND length(CAST(exe AS BLOB)) > 4095;
END;

-- Last: a file made with "sqlite3 policy.db < schema.sql" is complete.
PRAGMA user_version = 4;
