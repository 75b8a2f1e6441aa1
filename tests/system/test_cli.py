"""The command line itself: help texts, version, exit codes for bad usage."""

import re

import pytest

SPEC_COMMANDS = ("run", "once", "status", "plan", "probe", "dns", "pin",
                 "unpin", "audit", "queue", "config", "demo")


def test_help_lists_every_command(run):
    rc, out, err = run(["--help"])
    assert rc == 0, err
    assert out.startswith("usage: mxfailover")
    for c in SPEC_COMMANDS:
        assert re.search(r"^\s+%s\s" % c, out, re.M), "--help lacks " + c
    assert "-c FILE" in out
    # The exit codes of SPEC.md are documented.
    for code in ("0", "1", "2", "3", "4", "5"):
        assert code in out


def test_help_word_equals_dash_dash_help(run):
    assert run(["help"])[:2] == run(["--help"])[:2]


def test_version(run):
    rc, out, err = run(["--version"])
    assert rc == 0, err
    assert re.fullmatch(r"mxfailover \d+\.\d+\.\d+\S*\n", out), out


@pytest.mark.parametrize("cmd,needles", [
    ("dns", ["dns get NAME [TYPE]", "dns set [--expect OLD] NAME TYPE VALUE [TTL]",
             "dns apply FILE", "Exit 3"]),
    ("config", ["config check", "configuration OK", "FILE:LINE: message"]),
])
def test_help_command(run, cmd, needles):
    rc, out, err = run(["help", cmd])
    assert rc == 0, err
    assert out.startswith("usage: mxfailover [-c FILE] [-v|-q] " + cmd)
    for n in needles:
        assert n in out


@pytest.mark.parametrize("cmd", SPEC_COMMANDS)
def test_help_for_every_command(run, cmd):
    rc, out, err = run(["help", cmd])
    assert rc == 0, err
    assert ("mxfailover [-c FILE] [-v|-q] " + cmd) in out


def test_help_unknown_command(run):
    rc, out, err = run(["help", "frobnicate"])
    assert rc == 2
    assert "frobnicate" in err


def test_unknown_command_exits_2(run):
    rc, out, err = run(["frobnicate"])
    assert rc == 2
    assert "unknown command" in err and "frobnicate" in err
    assert out == ""


def test_no_command_exits_2_with_usage(run):
    rc, out, err = run([])
    assert rc == 2
    assert "usage: mxfailover" in err


def test_unknown_option_exits_2(run):
    rc, out, err = run(["--no-such-option", "config", "check"])
    assert rc == 2


def test_every_spec_command_is_built(run):
    """Every command of SPEC.md runs: none is a placeholder any more."""
    rc, out, err = run(["--help"])
    assert "not built" not in out
    for cmd in SPEC_COMMANDS:
        rc, out2, err2 = run(["help", cmd])
        assert rc == 0 and "not built" not in out2, cmd


@pytest.mark.parametrize("args", [
    ["dns"],
    ["dns", "frobnicate"],
    ["dns", "get"],
    ["dns", "set", "mx.example.com"],
    ["dns", "set", "mx.example.com", "CNAME"],
    ["config"],
    ["config", "frobnicate"],
])
def test_bad_subcommand_usage_exits_2(run, tmp_path, args):
    # A valid config, so that only the usage can be at fault.
    cfg = tmp_path / "c.conf"
    cfg.write_text("[dns]\nserver = 127.0.0.1:9\n\n[server a]\naddress = 192.0.2.1\n"
                   "name = a.example.com.\nchecks = smtp\n\n[group g]\nservers = a\n"
                   "zones = example.com\nrecords = mx\ntype = CNAME\n")
    rc, out, err = run(args, config=str(cfg), timeout=15)
    assert rc == 2, (args, out, err)
    assert err.strip(), "no message for bad usage"


def test_help_lists_the_operator_tools_too(run):
    rc, out, err = run(["--help"])
    for c in ("notify", "etrn", "help"):
        assert re.search(r"^\s+%s\s+\S" % c, out, re.M), "--help lacks " + c


@pytest.mark.parametrize("args,near", [
    (["stauts"], "status"), (["unpn"], "unpin"), (["confgi", "check"], "config"),
    (["help", "probr"], "probe"), (["hlep"], "help"),
])
def test_unknown_command_did_you_mean(run, args, near):
    rc, out, err = run(args)
    assert rc == 2 and out == ""
    assert "unknown command '%s'; did you mean '%s'?" % (args[-1] if args[0] == "help"
                                                          else args[0], near) in err, err


def test_unknown_command_far_from_any_has_no_guess(run):
    rc, out, err = run(["frobnicate"])
    assert rc == 2 and "did you mean" not in err and "--help" in err


def _env_without_config():
    import os
    return {k: v for k, v in os.environ.items()
            if k not in ("MXFAILOVER_CONFIG", "DNSFAILOVER_CONFIG")}


def test_missing_config_says_where_it_looked(run, tmp_path):
    import os
    if os.path.exists("/etc/mxfailover/mxfailover.conf") or \
            os.path.exists("/usr/local/etc/dnsfailover/config.cfg"):
        pytest.skip("a configuration is installed on this machine")
    rc, out, err = run(["status"], env=_env_without_config())
    assert rc == 2
    assert "tried /etc/mxfailover/mxfailover.conf and " \
           "/usr/local/etc/dnsfailover/config.cfg" in err, err
    assert "-c FILE" in err and "$MXFAILOVER_CONFIG" in err, err
    assert "I/O error" not in err and "cannot open" not in err, err
    missing = str(tmp_path / "nope.conf")
    rc, out, err = run(["status"], config=missing)
    assert rc == 2 and "%s (given with -c) does not exist" % missing in err, err
    env = _env_without_config()
    env["MXFAILOVER_CONFIG"] = missing
    rc, out, err = run(["config", "check"], env=env)
    assert rc == 2 and "%s (from $MXFAILOVER_CONFIG) does not exist" % missing in err, err
    assert "I/O error" not in err
