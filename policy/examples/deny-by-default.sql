-- Deny every new flow that no rule allows, while keeping a desktop or
-- server usable: loopback, DNS, DHCP, NTP, the web, ICMP and ICMPv6 (IPv6
-- needs it for neighbour discovery and path MTU). Flows already open keep
-- their verdict; those the new policy denies are cut.
--
--   sqlite3 /var/lib/sluice/policy.db < deny-by-default.sql
--
-- Add what your machine serves, e.g. incoming ssh:
--   INSERT INTO rules(priority, action, direction, proto, dst_port, comment)
--   VALUES (30, 'allow', 'in', 'tcp', '22', 'ssh');
BEGIN;
INSERT INTO rules(priority, action, dst, comment) VALUES
	(10, 'allow', '127.0.0.0/8', 'loopback'),
	(10, 'allow', '::1/128', 'loopback');
INSERT INTO rules(priority, action, direction, proto, dst_port, comment) VALUES
	(20, 'allow', 'out', 'udp', '53', 'DNS'),
	(20, 'allow', 'out', 'tcp', '53', 'DNS over TCP'),
	(20, 'allow', 'out', 'udp', '67-68', 'DHCP'),
	(20, 'allow', 'out', 'udp', '123', 'NTP'),
	(20, 'allow', 'out', 'tcp', '80', 'HTTP'),
	(20, 'allow', 'out', 'tcp', '443', 'HTTPS'),
	(20, 'allow', 'out', 'udp', '443', 'HTTP/3');
INSERT INTO rules(priority, action, proto, comment) VALUES
	(20, 'allow', 'icmp', 'ping, unreachable, fragmentation needed'),
	(20, 'allow', 'icmpv6', 'neighbour discovery, path MTU');
UPDATE settings SET value = 'deny' WHERE key = 'default_action';
COMMIT;
