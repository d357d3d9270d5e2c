/* SPDX-License-Identifier: GPL-2.0-only */
/* Exported by hmm_p2p_hooktest_target.ko for the hook-engine self-test. */
#ifndef HMM_P2P_HOOKTEST_H
#define HMM_P2P_HOOKTEST_H

int hmm_p2p_hooktest_target(int x);
int hmm_p2p_hooktest_call(int x);

#endif
