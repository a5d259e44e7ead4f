"""The steps a script runs, each compiled once from its validated config (paths like `action/2/then/0`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from hub.core import Context, Hub, callback
from hub.exceptions import HubError
from hub.helpers.template import Template, has_template, is_true, render_complex
from hub.helpers.template_tracker import TemplateTracker
from hub.helpers.validators import plain

from .conditions import ConditionCheck, compile_condition, compile_conditions
from .helpers import parse_time_period
from .script import ConditionFail, StopRun
from .trace import EXEC_ABORTED, TraceElement
from .triggers import async_attach_triggers

if TYPE_CHECKING:
    from .script import Scope, ScriptRun

__all__ = ["STEP_TYPES", "Step", "compile_sequence"]

_LOGGER = logging.getLogger(__name__)


def _seconds(hub: Hub, value: Any, variables: Mapping[str, Any]) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    rendered = render_complex(hub, value, variables)
    try:
        return parse_time_period(rendered).total_seconds()
    except ValueError as err:
        raise HubError(f"time period rendered to {rendered!r}: {err}") from None


class Step:
    """One step. `async_run` does it; `async_resume` continues it after a restart (default: redo it)."""

    __slots__ = ("alias", "continue_on_error", "enabled", "hub", "path")

    def __init__(self, hub: Hub, config: dict[str, Any], path: str) -> None:
        self.hub = hub
        self.path = path
        self.alias: str | None = config.get("alias")
        self.enabled: bool = config.get("enabled", True)
        self.continue_on_error: bool = config.get("continue_on_error", False)

    async def async_run(self, run: ScriptRun, scope: Scope) -> None:
        raise NotImplementedError

    async def async_resume(self, run: ScriptRun, scope: Scope, frames: list[dict[str, Any]]) -> None:
        await self.async_run(run, scope)


def compile_sequence(hub: Hub, configs: list[dict[str, Any]], path: str) -> list[Step]:
    """Compile validated action configs into steps."""
    return [STEP_TYPES[config["type"]](hub, config, f"{path}/{index}")
            for index, config in enumerate(configs)]


class ServiceStep(Step):
    """`action: domain.service` with target, data and response_variable."""

    __slots__ = ("_action", "_data", "_name", "_response_variable", "_static", "_target")

    def __init__(self, hub: Hub, config: dict[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        action = config["action"]
        self._action: Template | None = action if isinstance(action, Template) else None
        self._name: tuple[str, str] = tuple(action.split(".", 1)) if isinstance(action, str) else ("", "")  # type: ignore[assignment]
        target: dict[str, Any] | Template = config.get("target") or {}
        if not isinstance(target, Template):
            target = dict(target)
            if "entity_id" in config:
                target.setdefault("entity_id", config["entity_id"])
        self._target = target
        self._data = config.get("data") or {}
        self._response_variable: str | None = config.get("response_variable")
        self._static: dict[str, Any] | None = None
        if not has_template(target) and not has_template(self._data) and isinstance(self._data, dict):
            self._static = {**plain(target), **plain(self._data)}

    async def async_run(self, run: ScriptRun, scope: Scope) -> None:
        element = run.trace.add(self.path)
        hub = self.hub
        variables = scope.vars
        if self._action is not None:
            name = str(self._action.async_render(hub, variables, parse_result=False)).strip().lower()
            domain, _, service = name.partition(".")
            if not domain or not service:
                raise HubError(f"action template rendered to {name!r}, not 'domain.service'")
        else:
            domain, service = self._name
        if self._static is not None:
            data = self._static
        else:
            data = render_complex(hub, self._data, variables)
            if not isinstance(data, dict):
                raise HubError(f"data rendered to {type(data).__name__}, expected a mapping")
            if self._target:
                data = {**_render_target(hub, self._target, variables), **data}
        element.result = {"action": f"{domain}.{service}", "data": data}
        if not run.in_task:
            await run.async_ensure_task(domain, service)
        rv = self._response_variable
        response = await hub.services.async_call(domain, service, data, blocking=True, context=run.context,
                                                 return_response=rv is not None)
        if rv is not None:
            scope.set(**{rv: response})
            element.variables = {rv: response}


def _render_target(hub: Hub, target: dict[str, Any] | Template, variables: Mapping[str, Any]) -> dict[str, Any]:
    """A target mapping, or a template rendering to one (or to entity ids, the older shorthand)."""
    rendered = render_complex(hub, target, variables)
    if isinstance(rendered, dict):
        return rendered
    return {"entity_id": rendered}


class EventStep(Step):
    """`event: type` with event_data."""

    __slots__ = ("_data", "_event")

    def __init__(self, hub: Hub, config: dict[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self._event: str | Template = config["event"]
        self._data = config.get("event_data") or {}

    async def async_run(self, run: ScriptRun, scope: Scope) -> None:
        element = run.trace.add(self.path)
        event = self._event
        if isinstance(event, Template):
            event_type = str(event.async_render(self.hub, scope.vars, False))
        else:
            event_type = event
        data = render_complex(self.hub, self._data, scope.vars)
        element.result = {"event": event_type, "event_data": data}
        self.hub.bus.async_fire(event_type, data, context=run.context)


class DelayStep(Step):
    """`delay: '00:10:00'` on the hub clock (durable: a restart resumes the remaining time)."""

    __slots__ = ("_delay",)

    def __init__(self, hub: Hub, config: dict[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self._delay = config["delay"]

    async def async_run(self, run: ScriptRun, scope: Scope) -> None:
        seconds = _seconds(self.hub, self._delay, scope.vars)
        await self._wait(run, scope, self.hub.clock.time() + seconds, seconds)

    async def async_resume(self, run: ScriptRun, scope: Scope, frames: list[dict[str, Any]]) -> None:
        leaf = run.resume_leaf or {}
        deadline = leaf.get("deadline")
        if deadline is None:
            await self.async_run(run, scope)
            return
        await self._wait(run, scope, float(deadline), leaf.get("seconds", 0.0))

    async def _wait(self, run: ScriptRun, scope: Scope, deadline: float, seconds: float) -> None:
        element = run.trace.add(self.path, {"delay": seconds, "done": False})
        await run.async_wait(None, deadline, scope, {"kind": "delay", "seconds": seconds})
        element.result = {"delay": seconds, "done": True}


class _WaitStep(Step):
    """Shared by wait_template and wait_for_trigger: timeout, continue_on_timeout, the `wait` variable."""

    __slots__ = ("_continue", "_timeout")

    def __init__(self, hub: Hub, config: dict[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self._timeout = config.get("timeout")
        self._continue: bool = config.get("continue_on_timeout", True)

    async def async_run(self, run: ScriptRun, scope: Scope) -> None:
        deadline = None
        if self._timeout is not None:
            deadline = self.hub.clock.time() + _seconds(self.hub, self._timeout, scope.vars)
        await self._wait(run, scope, deadline)

    async def async_resume(self, run: ScriptRun, scope: Scope, frames: list[dict[str, Any]]) -> None:
        leaf = run.resume_leaf or {}
        deadline = leaf.get("deadline")
        await self._wait(run, scope, float(deadline) if deadline is not None else None)

    async def _wait(self, run: ScriptRun, scope: Scope, deadline: float | None) -> None:
        raise NotImplementedError

    def _after(self, run: ScriptRun, scope: Scope, element: TraceElement, deadline: float | None,
               wait: dict[str, Any], completed: bool) -> None:
        wait["remaining"] = None if deadline is None else max(0.0, deadline - self.hub.clock.time())
        scope.set(wait=wait)
        element.variables = {"wait": wait}
        if not completed:
            element.result = {"timeout": True}
            if not self._continue:
                raise StopRun("timed out waiting", execution=EXEC_ABORTED)


class WaitTemplateStep(_WaitStep):
    """`wait_template:` until the template is true (re-rendered when what it reads changes)."""

    __slots__ = ("_template",)

    def __init__(self, hub: Hub, config: dict[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self._template: Template = config["wait_template"]

    async def _wait(self, run: ScriptRun, scope: Scope, deadline: float | None) -> None:
        element = run.trace.add(self.path)
        future: asyncio.Future[Any] = self.hub.loop.create_future()

        @callback
        def on_result(result: Any, error: Exception | None, event: Any) -> None:
            if error is None and is_true(result) and not future.done():
                future.set_result(True)

        tracker = TemplateTracker(self.hub, self._template, scope.vars, on_result)
        first, error = tracker.async_start()
        try:
            if error is not None:
                raise error
            completed = is_true(first) or await run.async_wait(future, deadline, scope,
                                                               {"kind": "wait_template"})
        finally:
            tracker.async_stop()
        self._after(run, scope, element, deadline, {"completed": completed}, completed)


class WaitForTriggerStep(_WaitStep):
    """`wait_for_trigger:` until one of the triggers fires; `wait.trigger` says which."""

    __slots__ = ("_triggers",)

    def __init__(self, hub: Hub, config: dict[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self._triggers: list[dict[str, Any]] = config["wait_for_trigger"]

    async def _wait(self, run: ScriptRun, scope: Scope, deadline: float | None) -> None:
        element = run.trace.add(self.path)
        future: asyncio.Future[Any] = self.hub.loop.create_future()

        @callback
        def fired(payload: dict[str, Any], context: Context | None = None, extra: Any = None) -> None:
            if not future.done():
                future.set_result(payload)

        remove = await async_attach_triggers(self.hub, self._triggers, fired, "script", run.script.name,
                                             scope.vars)
        try:
            completed = await run.async_wait(future, deadline, scope, {"kind": "wait_for_trigger"})
        finally:
            remove()
        payload = future.result() if completed else None
        self._after(run, scope, element, deadline, {"trigger": payload}, completed)


class ConditionStep(Step):
    """A condition as a step: when false, the sequence it is in ends."""

    __slots__ = ("_check",)

    def __init__(self, hub: Hub, config: dict[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self._check: ConditionCheck = compile_condition(hub, config, path)

    async def async_run(self, run: ScriptRun, scope: Scope) -> None:
        if not self._check(scope.vars, run.trace):
            raise ConditionFail


class _BranchStep(Step):
    """A step with nested sequences; resumes inside the branch a checkpoint names."""

    __slots__ = ()

    def _branch(self, branch: list[Any]) -> list[Step] | None:
        raise NotImplementedError

    async def async_resume(self, run: ScriptRun, scope: Scope, frames: list[dict[str, Any]]) -> None:
        if not frames:
            await self.async_run(run, scope)
            return
        branch = list(frames[0]["b"] or [])
        steps = self._branch(branch)
        if steps is None:
            await self.async_run(run, scope)
            return
        run.trace.add(self.path, {"resumed": branch})
        await run.run_nested(steps, scope, branch, frames[0]["v"], frames)


class ChooseStep(_BranchStep):
    """`choose:` the first option whose conditions hold, else `default`."""

    __slots__ = ("_default", "_options")

    def __init__(self, hub: Hub, config: dict[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self._options: list[tuple[ConditionCheck | None, list[Step]]] = [
            (compile_conditions(hub, option["conditions"], f"{path}/choose/{index}/conditions"),
             compile_sequence(hub, option["sequence"], f"{path}/choose/{index}/sequence"))
            for index, option in enumerate(config["choose"])
        ]
        self._default = compile_sequence(hub, config["default"], f"{path}/default") \
            if "default" in config else None

    def _branch(self, branch: list[Any]) -> list[Step] | None:
        if branch[:1] == ["choose"] and len(branch) > 1 and 0 <= int(branch[1]) < len(self._options):
            return self._options[int(branch[1])][1]
        if branch == ["default"]:
            return self._default
        return None

    async def async_run(self, run: ScriptRun, scope: Scope) -> None:
        element = run.trace.add(self.path)
        for index, (check, steps) in enumerate(self._options):
            if check is None or check(scope.vars, run.trace):
                element.result = {"choice": index}
                await run.run_nested(steps, scope, ["choose", index])
                return
        element.result = {"choice": "default"}
        if self._default is not None:
            await run.run_nested(self._default, scope, ["default"])


class IfStep(_BranchStep):
    """`if:` conditions `then:` ... `else:` ..."""

    __slots__ = ("_check", "_else", "_then")

    def __init__(self, hub: Hub, config: dict[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self._check = compile_conditions(hub, config["if"], f"{path}/if")
        self._then = compile_sequence(hub, config["then"], f"{path}/then")
        self._else = compile_sequence(hub, config["else"], f"{path}/else") if "else" in config else None

    def _branch(self, branch: list[Any]) -> list[Step] | None:
        return self._then if branch == ["then"] else self._else if branch == ["else"] else None

    async def async_run(self, run: ScriptRun, scope: Scope) -> None:
        element = run.trace.add(self.path)
        result = self._check is None or self._check(scope.vars, run.trace)
        element.result = {"choice": "then" if result else "else"}
        if result:
            await run.run_nested(self._then, scope, ["then"])
        elif self._else is not None:
            await run.run_nested(self._else, scope, ["else"])


class RepeatStep(_BranchStep):
    """`repeat:` count, while, until or for_each over a sequence, with the `repeat` variable."""

    __slots__ = ("_count", "_for_each", "_is_while", "_steps", "_until", "_while")

    def __init__(self, hub: Hub, config: dict[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        repeat = config["repeat"]
        self._count = repeat.get("count")
        self._for_each = repeat.get("for_each")
        self._while = compile_conditions(hub, repeat["while"], f"{path}/repeat/while") \
            if "while" in repeat else None
        self._until = compile_conditions(hub, repeat["until"], f"{path}/repeat/until") \
            if "until" in repeat else None
        self._is_while = "while" in repeat
        self._steps = compile_sequence(hub, repeat["sequence"], f"{path}/repeat/sequence")

    def _branch(self, branch: list[Any]) -> list[Step] | None:
        return self._steps if branch[:1] == ["repeat"] else None

    def _items(self, run: ScriptRun, scope: Scope) -> list[Any] | None:
        if self._for_each is not None:
            items = render_complex(self.hub, self._for_each, scope.vars)
            if not isinstance(items, list):
                raise HubError(f"repeat for_each rendered to {type(items).__name__}, expected a list")
            return items
        if self._count is not None:
            count = render_complex(self.hub, self._count, scope.vars)
            try:
                return [None] * int(count)
            except (TypeError, ValueError):
                raise HubError(f"repeat count rendered to {count!r}, expected a number") from None
        return None

    async def async_run(self, run: ScriptRun, scope: Scope) -> None:
        await self._loop(run, scope, 0, None)

    async def async_resume(self, run: ScriptRun, scope: Scope, frames: list[dict[str, Any]]) -> None:
        if not frames or list(frames[0]["b"] or [])[:1] != ["repeat"]:
            await self.async_run(run, scope)
            return
        await self._loop(run, scope, int(frames[0]["b"][1]), frames)

    async def _loop(self, run: ScriptRun, scope: Scope, start: int,
                    frames: list[dict[str, Any]] | None) -> None:
        element = run.trace.add(self.path)
        items = self._items(run, scope)
        index = start
        while True:
            if items is not None and index >= len(items):
                break
            repeat: dict[str, Any] = {"first": index == 0, "index": index + 1}
            if items is not None:
                repeat["last"] = index == len(items) - 1
                if self._for_each is not None:
                    repeat["item"] = items[index]
            variables = {**scope.vars, "repeat": repeat}
            if self._is_while and self._while is not None and not self._while(variables, run.trace):
                break
            if index > start:
                await run.async_yield()  # a long loop must not hold the event loop
            if frames is not None and index == start:
                await run.run_nested(self._steps, scope, ["repeat", index], frames[0]["v"], frames)
            else:
                await run.run_nested(self._steps, scope, ["repeat", index], variables)
            index += 1
            if "wait" in scope.vars:  # a wait in the sequence just run counts for `until`
                variables = {**variables, "wait": scope.vars["wait"]}
            if self._until is not None and self._until(variables, run.trace):
                break
        element.result = {"iterations": index}


class ParallelStep(Step):
    """`parallel:` branches run at the same time, each in its own task; the step ends when all have."""

    __slots__ = ("_branches",)

    def __init__(self, hub: Hub, config: dict[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self._branches = [compile_sequence(hub, branch["sequence"], f"{path}/parallel/{index}/sequence")
                          for index, branch in enumerate(config["parallel"])]

    async def async_run(self, run: ScriptRun, scope: Scope) -> None:
        run.trace.add(self.path)
        run.in_task = True
        tasks = [self.hub.async_create_background_task(run.run_nested(steps, scope, ["parallel", index]),
                                            f"{run.script.key} parallel {index}")
                 for index, steps in enumerate(self._branches)]
        try:
            results = await asyncio.gather(*tasks, return_exceptions=True)
        except asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            raise
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                raise result


class SequenceStep(_BranchStep):
    """`sequence:` a group of steps (a false condition inside ends only the group)."""

    __slots__ = ("_steps",)

    def __init__(self, hub: Hub, config: dict[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self._steps = compile_sequence(hub, config["sequence"], f"{path}/sequence")

    def _branch(self, branch: list[Any]) -> list[Step] | None:
        return self._steps if branch == ["sequence"] else None

    async def async_run(self, run: ScriptRun, scope: Scope) -> None:
        run.trace.add(self.path)
        await run.run_nested(self._steps, scope, ["sequence"])


class VariablesStep(Step):
    """`variables:` set names in the current scope (each may use the ones before it)."""

    __slots__ = ("_variables",)

    def __init__(self, hub: Hub, config: dict[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self._variables: dict[str, Any] = config["variables"]

    async def async_run(self, run: ScriptRun, scope: Scope) -> None:
        element = run.trace.add(self.path)
        values = dict(scope.vars)
        changed = {}
        for name, value in self._variables.items():
            values[name] = changed[name] = render_complex(self.hub, value, values)
        scope.vars = values
        element.variables = changed
        # Home Assistant 2025.4+: a name an outer sequence already has is updated there too.
        outer = scope.parent
        while outer is not None:
            updates = {name: value for name, value in changed.items() if name in outer.vars}
            if not updates:
                break
            outer.set(**updates)
            outer = outer.parent


class StopStep(Step):
    """`stop:` end the run (with `error: true` as a failure, with a response for script callers)."""

    __slots__ = ("_error", "_reason", "_response_variable")

    def __init__(self, hub: Hub, config: dict[str, Any], path: str) -> None:
        super().__init__(hub, config, path)
        self._reason: str | None = config.get("stop")
        self._error: bool = config.get("error", False)
        self._response_variable: str | None = config.get("response_variable")

    async def async_run(self, run: ScriptRun, scope: Scope) -> None:
        run.trace.add(self.path, {"stop": self._reason, "error": self._error})
        response = None
        if self._response_variable is not None:
            if self._response_variable not in scope.vars:
                raise HubError(f"stop: response_variable {self._response_variable!r} is not set")
            response = scope.vars[self._response_variable]
        raise StopRun(self._reason, self._error, response)


STEP_TYPES: dict[str, type[Step]] = {
    "action": ServiceStep,
    "event": EventStep,
    "delay": DelayStep,
    "wait_template": WaitTemplateStep,
    "wait_for_trigger": WaitForTriggerStep,
    "condition": ConditionStep,
    "choose": ChooseStep,
    "if": IfStep,
    "repeat": RepeatStep,
    "parallel": ParallelStep,
    "sequence": SequenceStep,
    "variables": VariablesStep,
    "stop": StopStep,
}
