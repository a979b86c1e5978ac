// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>

#include "snoop_ctr.h"

#define XM_SNOOP_OWN_NAME(id, name) [XM_SNOOP_##id] = name,
static const char *const own_names[XM_SNOOP_OWN_COUNT] = { XM_SNOOP_OWN(XM_SNOOP_OWN_NAME) };

const char *xm_snoop_ctr_name(unsigned int i, char *buf, size_t len)
{
	if (i < XM_SNOOP_OWN_COUNT)
		return own_names[i];
	if (i >= XM_SNOOP_BASE_MSHIP && i < XM_SNOOP_BASE_MSHIP + XM_MSHIP_C_COUNT)
		return xm_mship_counter_name(i - XM_SNOOP_BASE_MSHIP);
	/* Reason 0 is "ok": accepted messages are counted by kind above. */
	if (i > XM_SNOOP_BASE_REASON && i < XM_SNOOP_BASE_REASON + XM_CTRL_REASON_COUNT) {
		snprintf(buf, len, "ignored_%s", xm_ctrl_reason_name(i - XM_SNOOP_BASE_REASON));
		return buf;
	}
	if (i >= XM_SNOOP_BASE_SKIP && i < XM_SNOOP_BASE_SKIP + XM_CTRL_SKIP_COUNT) {
		snprintf(buf, len, "skipped_%s", xm_ctrl_skip_name(i - XM_SNOOP_BASE_SKIP));
		return buf;
	}
	return NULL;
}
