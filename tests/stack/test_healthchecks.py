"""Every healthcheck runs a program its pinned image really ships, and asks the service's own port.

A healthcheck runs inside the container: `wget` in a distroless image (grafana/loki from 3.6.0 on)
exits 127 on every try, the service never turns healthy, and everything that waits for it with
`service_healthy` never starts. No container engine runs here, so the check is a table of what each
pinned image ships, each row with where that was read, and a test that every healthcheck names only
those programs (`CMD-SHELL`, or a plain string, needs the image's shell).

A row is keyed by the exact image reference: bumping a tag leaves the new image without a row (the
healthcheck test fails) and the old row unused (the stale-row test fails), until someone reads the
new tag's Dockerfile again.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.stack.conftest import interpolate


@dataclass(frozen=True)
class Image:
    """What a healthcheck may run in one pinned image."""

    programs: frozenset[str]
    """Absolute paths of the programs on the image's PATH that a healthcheck may name."""
    shell: str | None
    """The `/bin/sh` that `CMD-SHELL` runs, or None where the image has no shell."""
    source: str
    """Where this was read, at the pinned tag (a Dockerfile path in the upstream repository, a doc page)."""


LOKI_HEALTH_DEFAULT_URL = "http://localhost:3100/ready"
"""`loki -health` without `-health.url`: grafana/loki v3.7.4, cmd/loki/health.go (defaultHealthURL)."""

IMAGES: dict[str, Image] = {
    "grafana/loki:3.7.4": Image(
        programs=frozenset({"/usr/bin/loki"}),
        shell=None,
        source=(
            "grafana/loki v3.7.4, cmd/loki/Dockerfile (the one .github/workflows/images.yml releases): "
            "final stage `FROM gcr.io/distroless/static:nonroot`, only `COPY ... /usr/bin/loki` and files "
            "under /etc and /loki: no shell, no wget, no curl (issue #20149, 'Docker healthchecks impossible "
            "since v3.6.0'); `loki -health` is in cmd/loki/main.go and health.go from v3.6.5 and v3.7.0 "
            "(PR #20313), and production/docker/docker-compose.yaml at v3.7.4 uses it as its healthcheck"
        ),
    ),
    "prom/alertmanager:v0.35.0": Image(
        programs=frozenset({"/bin/alertmanager", "/bin/amtool", "/bin/sh", "/bin/wget"}),
        shell="/bin/sh",
        source=(
            "prometheus/alertmanager v0.35.0, Dockerfile (read in the module "
            "github.com/prometheus/alertmanager@v0.35.0, which `make tools` downloads): "
            "`FROM quay.io/prometheus/busybox-${OS}-${ARCH}:latest`, "
            "`COPY .build/${OS}-${ARCH}/amtool /bin/amtool` and `.../alertmanager /bin/alertmanager`; "
            "busybox provides /bin/sh and /bin/wget, as for prom/prometheus"
        ),
    ),
    "prom/prometheus:v3.14.0": Image(
        programs=frozenset({"/bin/prometheus", "/bin/promtool", "/bin/sh", "/bin/wget"}),
        shell="/bin/sh",
        source=(
            "prometheus/prometheus v3.14.0, Dockerfile (the default, unsuffixed tag; CHANGELOG 3.10.0: "
            "'The busybox image remains the default'): "
            "`FROM quay.io/prometheus/busybox-${OS}-${ARCH}:latest`, "
            "`COPY .build/${OS}-${ARCH}/promtool /bin/promtool` and prometheus likewise; "
            "`promtool check ready` in docs/command-line/promtool.md at v3.14.0. prometheus/busybox "
            "uclibc/Dockerfile: `FROM busybox:uclibc`; docker-library/busybox builds busybox's defconfig "
            "and runs `busybox --install /bin` (sh and wget among the applets)"
        ),
    ),
    "grafana/grafana:13.2.0": Image(
        programs=frozenset({"/usr/bin/curl", "/bin/bash", "/bin/sh", "/usr/share/grafana/bin/grafana"}),
        shell="/bin/sh",
        source=(
            "grafana/grafana Dockerfile, final stage: `apk add --no-cache ca-certificates bash curl tzdata "
            "musl-utils` on Alpine (the default variant) or `apt-get install -y ca-certificates curl tzdata "
            "musl` on Ubuntu, curl added for Docker healthchecks by PR #65547; bin/grafana copied to "
            "/usr/share/grafana/bin, which is on PATH. Read at commit 78515af (12.x line): the v13.2.0 tag "
            "itself could not be fetched here (the repository is over the reference store's size limit); "
            "grafana.com's 'Configure a Docker image' page (12.4 and later) still names Alpine and Ubuntu "
            "as the two variants"
        ),
    ),
}

SHELL_BUILTINS = frozenset({"exit", "test", "[", "true", "false", "echo", "printf", "command"})
SHELL_OPERATORS = frozenset({"&&", "||", ";", "|", "&", "(", ")"})


def command_words(script: str) -> list[str]:
    """The first word of every simple command of a `sh -c` script: what the shell must find."""
    lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words, expect_command = [], True
    for token in lexer:
        if token in SHELL_OPERATORS:
            expect_command = True
        elif expect_command:
            words.append(token)
            expect_command = False
    return words


def ships(image: Image, program: str) -> bool:
    """An absolute path must be in the image; a bare name must be one of its programs on PATH."""
    if program.startswith("/"):
        return program in image.programs
    return any(PurePosixPath(path).name == program for path in image.programs)


def problems(test: Any, image: Image) -> list[str]:
    """Why a healthcheck `test` cannot run in `image` (empty: it can)."""
    if isinstance(test, str):  # compose: a plain string is CMD-SHELL
        test = ["CMD-SHELL", test]
    kind, args = test[0], test[1:]
    if kind == "NONE":
        return []
    if kind == "CMD":
        return [] if args and ships(image, args[0]) else [f"`{args[0] if args else ''}` is not in the image"]
    if kind == "CMD-SHELL":
        if image.shell is None:
            return ["CMD-SHELL needs a shell and the image has none"]
        missing = [word for word in command_words(" ".join(args)) if word not in SHELL_BUILTINS]
        return [f"`{word}` is not in the image" for word in missing if not ships(image, word)]
    return [f"unknown healthcheck form {kind!r}"]


def probed_url(test: list[str]) -> str:
    """The URL a healthcheck asks: given on its command line, or `loki -health`'s documented default."""
    for arg in test[1:]:
        if "://" in arg:
            return arg[arg.index("http") :]
    if test[1:2] == ["/usr/bin/loki"] and "-health" in test:
        return LOKI_HEALTH_DEFAULT_URL
    raise AssertionError(f"no URL in {test}")


def with_healthchecks(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services whose healthcheck Docker runs (`disable: true` turns one off)."""
    services: dict[str, dict[str, Any]] = compose["services"]
    return {
        name: service
        for name, service in services.items()
        if "healthcheck" in service and not service["healthcheck"].get("disable")
    }


def test_every_healthcheck_names_only_programs_its_image_ships(compose: dict[str, Any]) -> None:
    services = with_healthchecks(compose)
    assert services, "no service has a healthcheck: service_healthy would wait for nothing"
    for name, service in services.items():
        image = service["image"]
        assert image in IMAGES, (
            f"{name}: no row for {image} in IMAGES; read what that tag ships (its Dockerfile) and add one"
        )
        found = problems(service["healthcheck"]["test"], IMAGES[image])
        assert found == [], f"{name} ({image}): {found}; it ships {sorted(IMAGES[image].programs)}"


def test_every_row_is_an_image_the_stack_runs_and_names_its_source(compose: dict[str, Any]) -> None:
    running = {service["image"] for service in compose["services"].values()}
    for reference, image in IMAGES.items():
        assert reference in running, f"stale row {reference}: no service runs it (a bumped tag?)"
        tag = reference.rsplit(":", 1)[1]
        assert tag.lstrip("v") in image.source, f"{reference}: the source must be read at {tag}"
        assert all(path.startswith("/") for path in image.programs), reference


def test_every_healthcheck_asks_its_own_service_on_the_port_it_listens_on(compose: dict[str, Any]) -> None:
    for name, service in with_healthchecks(compose).items():
        url = urlsplit(probed_url(service["healthcheck"]["test"]))
        assert url.hostname in {"localhost", "127.0.0.1"}, f"{name} checks another host: {url.geturl()}"
        listening = {interpolate(str(entry)).rsplit(":", 1)[1] for entry in service.get("ports", [])}
        assert str(url.port) in listening, f"{name} checks port {url.port}, listens on {sorted(listening)}"


def test_whatever_waits_for_a_service_waits_for_a_check_that_can_pass(compose: dict[str, Any]) -> None:
    """`service_healthy` on a service without a healthcheck, or with an impossible one, never starts."""
    services = compose["services"]
    for name, service in services.items():
        for target, condition in (service.get("depends_on") or {}).items():
            if condition["condition"] == "service_healthy":
                check = services[target].get("healthcheck")
                assert check is not None, f"{name} waits for {target} to be healthy; it has no healthcheck"
                assert problems(check["test"], IMAGES[services[target]["image"]]) == [], f"{name} -> {target}"


LOKI = IMAGES["grafana/loki:3.7.4"]
PROMETHEUS = IMAGES["prom/prometheus:v3.14.0"]
GRAFANA = IMAGES["grafana/grafana:13.2.0"]


@pytest.mark.parametrize(
    ("test", "image", "refused"),
    [
        (["CMD", "wget", "-q", "-O", "/dev/null", "http://localhost:3100/ready"], LOKI, "`wget`"),
        (["CMD", "curl", "-f", "http://localhost:3100/ready"], LOKI, "`curl`"),
        (["CMD-SHELL", "/usr/bin/loki -health"], LOKI, "needs a shell"),
        ("/usr/bin/loki -health || exit 1", LOKI, "needs a shell"),
        (["CMD", "/bin/loki", "-health"], LOKI, "`/bin/loki`"),
        (["CMD-SHELL", "curl -f http://localhost:9090/-/ready || exit 1"], PROMETHEUS, "`curl`"),
        (["CMD-SHELL", "wget -qO- http://localhost:9090/-/ready | grep -q ready"], PROMETHEUS, "`grep`"),
        (["CMD", "/usr/bin/wget", "http://localhost:3000/api/health"], GRAFANA, "`/usr/bin/wget`"),
        (["HTTP", "http://localhost:3000/api/health"], GRAFANA, "unknown healthcheck form"),
    ],
)
def test_the_check_refuses_a_tool_or_shell_the_image_lacks(test: Any, image: Image, refused: str) -> None:
    found = problems(test, image)
    assert len(found) == 1 and refused in found[0], found


@pytest.mark.parametrize(
    ("test", "image"),
    [
        (["CMD", "/usr/bin/loki", "-health"], LOKI),
        (["CMD", "promtool", "check", "ready"], PROMETHEUS),
        (["CMD-SHELL", "wget -q -O /dev/null http://localhost:9090/-/ready || exit 1"], PROMETHEUS),
        ("curl --fail http://localhost:3000/api/health && echo ok", GRAFANA),
        (["NONE"], LOKI),
    ],
)
def test_the_check_accepts_what_the_image_ships(test: Any, image: Image) -> None:
    assert problems(test, image) == []
