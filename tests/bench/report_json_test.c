/* SPDX-License-Identifier: Apache-2.0 */
/* report_json_test OUT NOTE: writes splitkey-bench's --json report of one
 * profile whose end-to-end part did not run, with NOTE as the reason
 * ("end_to_end_unavailable"), and of one failed profile that the report
 * leaves out, to OUT.  report_json.sh checks what it wrote. */
#include <stdio.h>
#include <string.h>

#include "report_json.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: report_json_test OUT NOTE\n");
        return 2;
    }
    static profile_run runs[2];
    memset(runs, 0, sizeof runs);
    runs[0].profile = SK_PROFILE_4K;
    runs[0].ok = true;
    runs[0].e2e_note = argv[2];
    for (int i = 0; i < IT_COUNT; i++)
        runs[0].s[i].name = item_names[i];
    /* seconds; the server step's median is 1.005 ms, the floor's 1 ms */
    series_add(&runs[0].s[IT_SERVER_COMPLETE], 0.001005);
    series_add(&runs[0].s[IT_SERVER_COMPLETE], 0.0010049999);
    series_add(&runs[0].s[IT_SERVER_COMPLETE], 0.0010051);
    series_add(&runs[0].s[IT_FLOOR_GMP], 0.001);
    series_add(&runs[0].s[IT_SIGN_IN_PROCESS], 0.004);
    runs[1].profile = SK_PROFILE_6K; /* failed: not in the report */
    int rc = report_json_write(argv[1], runs, 2, false);
    for (size_t p = 0; p < 2; p++)
        for (int i = 0; i < IT_COUNT; i++)
            series_free(&runs[p].s[i]);
    return rc;
}
