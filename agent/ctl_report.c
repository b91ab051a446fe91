// SPDX-License-Identifier: GPL-2.0
#include "agent/ctl.h"
#include "agent/status.h"
int sluicectl_report_main(int argc, char *argv[])
{
	(void)argc; (void)argv;
	return SLUICECTL_EXIT_FAILED;
}
