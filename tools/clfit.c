/* clfit: the command line. */
#include <stdio.h>
#include <string.h>
#include <inttypes.h>

#include "clfit/cl.h"

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "devices") == 0) {
        clfit_device_info *list;
        int n;
        clfit_status st = clfit_cl_devices(&list, &n);
        if (st) { fprintf(stderr, "clfit: %s\n", clfit_last_error()); return 1; }
        for (int i = 0; i < n; i++) printf("%d %s / %s\n", i, list[i].platform_name, list[i].name);
        return 0;
    }
    fprintf(stderr, "usage: clfit devices\n");
    return 2;
}
