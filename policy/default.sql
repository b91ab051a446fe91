-- sluice default policy: allow everything, block nothing.
--
-- A fresh policy database gets this when sluiced creates it. There are no
-- rules: every flow falls through to default_action, which is 'allow', so
-- installing sluice changes nothing until someone adds a rule. See
-- policy/examples/ for policies that deny.
INSERT INTO settings(key, value) VALUES ('default_action', 'allow');
