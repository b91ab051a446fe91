-- Allow everything (the default) but a few things, showing each column.
--
--   sqlite3 /var/lib/sluice/policy.db < block-some.sql
--
-- Undo one:   UPDATE rules SET enabled = 0 WHERE comment = 'no SMTP out';
BEGIN;
-- Only the mail server may talk SMTP to the world; everyone else is denied.
INSERT INTO rules(priority, action, direction, proto, dst_port, exe, comment) VALUES
	(40, 'allow', 'out', 'tcp', '25', '/usr/sbin/exim4', 'the MTA sends mail');
INSERT INTO rules(priority, action, direction, proto, dst_port, comment) VALUES
	(50, 'deny', 'out', 'tcp', '25', 'no SMTP out');
-- A documentation network and prefix, both families.
INSERT INTO rules(priority, action, dst, comment) VALUES
	(60, 'deny', '203.0.113.0/24', 'TEST-NET-3'),
	(60, 'deny', '2001:db8::/32', 'IPv6 documentation prefix');
-- A user that must not reach a range of ports.
INSERT INTO rules(priority, action, direction, proto, dst_port, uid, comment) VALUES
	(70, 'deny', 'out', 'tcp', '6881-6889', 1001, 'no BitTorrent for uid 1001');
-- Every subdomain of a name, and the name itself.
INSERT INTO rules(priority, action, domain, comment) VALUES
	(80, 'deny', '*.tracker.example', 'its subdomains'),
	(80, 'deny', 'tracker.example', 'and the name itself');
COMMIT;
