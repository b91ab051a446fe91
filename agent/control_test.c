// SPDX-License-Identifier: GPL-2.0
/*
 * The control channel's request machinery, driven against "nlctrl", the
 * generic netlink family every kernel has: a reply followed by its ack,
 * kernel errors with and without an extended ack, the reused heartbeat
 * message, and the ENOENT that is not a vanished family. The sluice
 * family itself is only reachable in the VM tier; here we check that its
 * absence is reported in one clear sentence.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <linux/genetlink.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "agent/control.h"

static struct sluice_ctl *open_nlctrl(void)
{
	char err[256] = "";
	struct sluice_ctl *c = sluice_ctl_open_family("nlctrl", err,
						      sizeof(err));

	if (!c)
		fail_msg("cannot open nlctrl: %s", err);
	return c;
}

static struct nl_msg *nlctrl_msg(struct sluice_ctl *c, uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	assert_non_null(msg);
	assert_non_null(genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ,
				    sluice_ctl_family(c), 0, 0, cmd, 1));
	return msg;
}

static void open_without_module_says_not_loaded(void **state)
{
	char err[256] = "";
	struct sluice_ctl *c;

	(void)state;
	c = sluice_ctl_open(err, sizeof(err));
	if (c) {
		sluice_ctl_close(c);
		skip();		/* the module is loaded here: VM tier */
	}
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, "sluice kernel module is not loaded"));
	assert_non_null(strstr(err, "modprobe sluice"));
}

static void strerror_gives_one_sentence_per_code(void **state)
{
	(void)state;
	assert_non_null(strstr(sluice_ctl_strerror(-ENOENT), "not loaded"));
	assert_non_null(strstr(sluice_ctl_strerror(-EPERM), "CAP_NET_ADMIN"));
	assert_non_null(strstr(sluice_ctl_strerror(-ENOTCONN),
			       "no sluice agent is registered"));
	assert_non_null(strstr(sluice_ctl_strerror(-EBUSY), "another socket"));
	assert_non_null(strstr(sluice_ctl_strerror(-ETIMEDOUT), "did not answer"));
	assert_string_equal(sluice_ctl_strerror(-EMFILE), strerror(EMFILE));
	assert_null(strchr(sluice_ctl_strerror(-ENOENT), '\n'));
}

static void reply_then_ack_is_parsed_from_a_real_kernel(void **state)
{
	struct sluice_config cfg = { 0 };
	struct sluice_ctl *c = open_nlctrl();
	struct nl_msg *msg = nlctrl_msg(c, CTRL_CMD_GETFAMILY);

	(void)state;
	/*
	 * nlctrl's reply happens to carry u16, string, u32, u32, u32 in
	 * attributes 1..5 (id, name, version, header size, max attribute),
	 * the same shapes as sluice's config attributes:
	 * a full reply-then-ack round trip through the real parser.
	 */
	assert_int_equal(nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, "nlctrl"), 0);
	assert_int_equal(sluice_ctl_request(c, msg, SLUICE_CMD_GET_CONFIG, &cfg), 0);
	assert_int_equal(cfg.queue_num, GENL_ID_CTRL);	/* family id */
	assert_int_equal(cfg.watchdog_ms, 2);		/* nlctrl version */
	assert_int_equal(cfg.hooks, 0);			/* header size */
	assert_string_equal(sluice_ctl_error(c), "");
	nlmsg_free(msg);
	sluice_ctl_close(c);
}

static void reused_heartbeat_message_round_trips_every_time(void **state)
{
	struct sluice_ctl *c = open_nlctrl();
	int i;

	(void)state;
	/*
	 * HEARTBEAT is nlctrl's GETFAMILY without a name: refused with
	 * EINVAL. Twenty in a row must each get their own answer (a stale
	 * sequence number would time out or be taken for another's).
	 */
	for (i = 0; i < 20; i++)
		assert_int_equal(sluice_ctl_heartbeat(c), -EINVAL);
	assert_non_null(strstr(sluice_ctl_error(c), "heartbeat"));
	assert_false(sluice_ctl_gone(c));
	sluice_ctl_close(c);
}

static void unknown_command_error_names_the_request(void **state)
{
	struct sluice_status st;
	struct sluice_ctl *c = open_nlctrl();

	(void)state;
	/* GET_STATS is a command nlctrl does not have. */
	assert_int_equal(sluice_ctl_get_status(c, &st), -EOPNOTSUPP);
	assert_non_null(strstr(sluice_ctl_error(c), "get stats"));
	assert_null(strchr(sluice_ctl_error(c), '\n'));
	sluice_ctl_close(c);
}

static void extended_ack_text_reaches_the_error(void **state)
{
	struct sluice_ctl *c = open_nlctrl();
	struct nl_msg *msg = nlctrl_msg(c, CTRL_CMD_GETFAMILY);
	uint32_t no_nul = 0x41414141;
	int err;

	(void)state;
	/* A family name without its NUL fails nlctrl's attribute policy. */
	assert_int_equal(nla_put(msg, CTRL_ATTR_FAMILY_NAME, sizeof(no_nul),
				 &no_nul), 0);
	err = sluice_ctl_request(c, msg, SLUICE_CMD_GET_CONFIG, NULL);
	assert_true(err < 0);
	assert_true(sluice_ctl_kernel_message(c)[0] != '\0');
	assert_non_null(strstr(sluice_ctl_error(c),
			       sluice_ctl_kernel_message(c)));
	nlmsg_free(msg);

	/* The next request starts clean. */
	assert_int_equal(sluice_ctl_heartbeat(c), -EINVAL);
	assert_string_equal(sluice_ctl_kernel_message(c), "");
	sluice_ctl_close(c);
}

static void handler_enoent_is_not_a_vanished_family(void **state)
{
	struct sluice_ctl *c = open_nlctrl();
	struct nl_msg *msg = nlctrl_msg(c, CTRL_CMD_GETFAMILY);

	(void)state;
	/*
	 * nlctrl answers ENOENT for an unknown name, as sluice does for "no
	 * agent registered": the family is still there, so it is ENOTCONN
	 * and the handle stays usable.
	 */
	assert_int_equal(nla_put_string(msg, CTRL_ATTR_FAMILY_NAME,
					"sluice-nosuch"), 0);
	assert_int_equal(sluice_ctl_request(c, msg, SLUICE_CMD_GET_CONFIG, NULL),
			 -ENOTCONN);
	assert_string_equal(sluice_ctl_error(c), sluice_ctl_strerror(-ENOTCONN));
	assert_false(sluice_ctl_gone(c));
	assert_int_equal(sluice_ctl_heartbeat(c), -EINVAL);
	nlmsg_free(msg);
	sluice_ctl_close(c);
}

static void set_config_rejects_values_outside_the_contract(void **state)
{
	struct sluice_ctl *c = open_nlctrl();

	(void)state;
	assert_int_equal(sluice_ctl_set_config(c, 2, -1), -EINVAL);
	assert_int_equal(sluice_ctl_set_config(c, -1, (int64_t)UINT32_MAX + 1),
			 -EINVAL);
	assert_non_null(strstr(sluice_ctl_error(c), "set config"));
	assert_int_equal(sluice_ctl_register_queue(c, 70000, NULL), -EINVAL);
	sluice_ctl_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(open_without_module_says_not_loaded),
		cmocka_unit_test(strerror_gives_one_sentence_per_code),
		cmocka_unit_test(reply_then_ack_is_parsed_from_a_real_kernel),
		cmocka_unit_test(reused_heartbeat_message_round_trips_every_time),
		cmocka_unit_test(unknown_command_error_names_the_request),
		cmocka_unit_test(extended_ack_text_reaches_the_error),
		cmocka_unit_test(handler_enoent_is_not_a_vanished_family),
		cmocka_unit_test(set_config_rejects_values_outside_the_contract),
	};

	return cmocka_run_group_tests_name("control", tests, NULL, NULL);
}
