# Prints n lines of a realistic blocklist, half in hosts-file format
# ("0.0.0.0 name") and half plain, about a tenth of them "*." patterns:
# ad/tracker-like subdomains over made-up registrable names under common
# TLDs. Deterministic for a given seed. Usage:
#   awk -v n=1000000 -v seed=42 -f gen-domains.awk > list.txt
function word(k,   w, j) {
	w = ""
	for (j = 0; j < k; j++)
		w = w syl[1 + int(rand() * nsyl)]
	return w
}
BEGIN {
	if (!n) n = 1000000
	if (!seed) seed = 42
	srand(seed)
	nsyl = split("ka lo mi ne ro ta vi zu pe do ri sa te no bu li ga fo ex an st pr", syl, " ")
	ntld = split("com com com com net net org io de co.uk fr ru info biz co xyz top online site app", tld, " ")
	nsub = split("ad ads track tracker cdn img static metrics stat pixel log beacon srv api web app mail go click tag sync eu us1 edge", subs, " ")
	for (i = 0; i < n; i++) {
		name = word(3 + int(rand() * 3))
		if (rand() < 0.4)
			name = name "-" int(rand() * 10000)
		name = name "." tld[1 + int(rand() * ntld)]
		depth = int(rand() * 3)
		for (d = 0; d < depth; d++) {
			s = subs[1 + int(rand() * nsub)]
			if (rand() < 0.3)
				s = s int(rand() * 100)
			name = s "." name
		}
		if (rand() < 0.1)
			name = "*." name
		if (rand() < 0.5)
			print "0.0.0.0 " name
		else
			print name
	}
}
