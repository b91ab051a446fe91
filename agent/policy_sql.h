/* SPDX-License-Identifier: GPL-2.0 */
/* policy/schema.sql and policy/default.sql, compiled into the agent. */
#ifndef SLUICE_POLICY_SQL_H
#define SLUICE_POLICY_SQL_H

extern const char sluice_schema_sql[];
extern const char sluice_default_sql[];

#endif
