/*
 * usage.c - kura-ring's help: swift-ring-builder's docstrings with our
 * binary's name, printed where Swift prints them.
 *
 * Each command keeps its own usage text beside its code (struct cli_cmd);
 * this file holds the texts that belong to no single command and the
 * layout of the full help.
 */
#include "tools/ring_cli/ring_cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char search_value_help[] =
    "The <search-value> can be of the form::\n"
    "\n"
    "    d<device_id>r<region>z<zone>-<ip>:<port>R<r_ip>:<r_port>/\n"
    "     <device_name>_<meta>\n"
    "\n"
    "Where <r_ip> and <r_port> are replication ip and port.\n"
    "\n"
    "Any part is optional, but you must include at least one part.\n"
    "\n"
    "Examples::\n"
    "\n"
    "    d74              Matches the device id 74\n"
    "    r4               Matches devices in region 4\n"
    "    z1               Matches devices in zone 1\n"
    "    z1-1.2.3.4       Matches devices in zone 1 with the ip 1.2.3.4\n"
    "    1.2.3.4          Matches devices in any zone with the ip 1.2.3.4\n"
    "    z1:5678          Matches devices in zone 1 using port 5678\n"
    "    :5678            Matches devices that use port 5678\n"
    "    R5.6.7.8         Matches devices that use replication ip 5.6.7.8\n"
    "    R:5678           Matches devices that use replication port 5678\n"
    "    1.2.3.4R5.6.7.8  Matches devices that use ip 1.2.3.4 and "
    "replication ip\n"
    "                     5.6.7.8\n"
    "    /sdb1            Matches devices with the device name sdb1\n"
    "    _shiny           Matches devices with shiny in the meta data\n"
    "    _\"snet: 5.6.7.8\" Matches devices with snet: 5.6.7.8 in the meta "
    "data\n"
    "    [::1]            Matches devices in any zone with the ip ::1\n"
    "    z1-[::1]:5678    Matches devices in zone 1 with ip ::1 and port "
    "5678\n"
    "\n"
    "Most specific example::\n"
    "\n"
    "    d74r4z1-1.2.3.4:5678/sdb1_\"snet: 5.6.7.8\"\n"
    "\n"
    "Nerd explanation:\n"
    "\n"
    "    All items require their single character prefix except the ip, in "
    "which\n"
    "    case the - is optional unless the device id or zone is also "
    "included.\n";

void usage_print_command(const struct cli_cmd *cmd)
{
    fputs(cmd->usage, stdout);
    if (cmd->search_help) {
        putchar('\n');
        fputs(search_value_help, stdout);
    }
}

int cli_usage_error(const struct cli *cli, const char *fmt, ...)
{
    va_list ap;

    usage_print_command(cli->cmd);
    va_start(ap, fmt);
    cli_verror(fmt, ap);
    va_end(ap);
    return CLI_ERROR;
}

int cli_want_args(const struct cli *cli, int n)
{
    if (cli->argc < n)
        return cli_usage_error(cli, "%s: missing arguments", cli->cmd->name);
    if (cli->argc > n)
        return cli_usage_error(cli, "%s: unexpected argument '%s'",
                               cli->cmd->name, cli->argv[n]);
    return CLI_OK;
}

/* Python's textwrap.wrap(' '.join(names), 79, initial_indent='Quick list:
 * ', subsequent_indent=' ' * 12), for the one place it is used. */
static void print_quick_list(const struct cli_cmd *const *cmds, int n)
{
    const char *indent = "Quick list: ";
    int col = printf("%s", indent);
    bool line_empty = true;

    for (int i = 0; i < n; i++) {
        int len = (int)strlen(cmds[i]->name);

        if (!line_empty && col + 1 + len > 79) {
            col = printf("\n            ") - 1;
            line_empty = true;
        }
        col += printf("%s%s", line_empty ? "" : " ", cmds[i]->name);
        line_empty = false;
    }
    putchar('\n');
}

void usage_print_all(const struct cli_cmd *const *cmds, int n)
{
    printf("kura-ring (swift-ring-builder 1.3 compatible)\n\n");
    fputs(cmd_default.usage, stdout);
    putchar('\n');
    for (int i = 0; i < n; i++) {
        fputs(cmds[i]->usage, stdout);
        putchar('\n');
    }
    fputs(search_value_help, stdout);
    putchar('\n');
    print_quick_list(cmds, n);
    printf("Exit codes: 0 = operation successful\n"
           "            1 = operation completed with warnings\n"
           "            2 = error\n");
}
