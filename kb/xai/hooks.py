"""PyTorch hooks, only ever inside context managers that remove them, even when the body raises."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle


@contextmanager
def registered(handles: Callable[[], Iterable[RemovableHandle]]) -> Iterator[None]:
    """Registers hooks by calling `handles()` and removes every one of them on the way out.

    Handles are taken one at a time, so if registering the third of five fails, the first two are
    still removed (a list built in one go would be lost whole)."""
    made: list[RemovableHandle] = []
    try:
        for handle in handles():
            made.append(handle)
        yield
    finally:
        for handle in made:
            handle.remove()


@contextmanager
def capture_outputs(modules: list[nn.Module]) -> Iterator[list[Any]]:
    """Yields a list that holds each module's latest output, in the order of `modules`."""
    seen: list[Any] = [None] * len(modules)

    def hook_for(index: int) -> Callable[..., None]:
        def hook(_module: nn.Module, _args: Any, output: Any) -> None:
            seen[index] = output

        return hook

    with registered(lambda: (m.register_forward_hook(hook_for(i)) for i, m in enumerate(modules))):
        yield seen


@contextmanager
def capture_inputs(module: nn.Module) -> Iterator[list[torch.Tensor]]:
    """Yields a list that receives the first positional input of each call, kept in the graph for gradients."""
    seen: list[torch.Tensor] = []

    def hook(_module: nn.Module, args: tuple[Any, ...]) -> None:
        tensor = args[0]
        if tensor.requires_grad:
            tensor.retain_grad()
        seen.append(tensor)

    with registered(lambda: [module.register_forward_pre_hook(hook)]):
        yield seen


@contextmanager
def replace_output(module: nn.Module, edit: Callable[[torch.Tensor], torch.Tensor]) -> Iterator[None]:
    """Runs `edit` on the module's (first) output tensor and passes the result on."""

    def hook(_module: nn.Module, _args: Any, output: Any) -> Any:
        if isinstance(output, tuple):
            return (edit(output[0]), *output[1:])
        return edit(output)

    with registered(lambda: [module.register_forward_hook(hook)]):
        yield


@contextmanager
def replace_input(module: nn.Module, edit: Callable[[torch.Tensor], torch.Tensor]) -> Iterator[None]:
    """Runs `edit` on the module's first positional input before the module sees it."""

    def hook(_module: nn.Module, args: tuple[Any, ...]) -> Any:
        return (edit(args[0]), *args[1:])

    with registered(lambda: [module.register_forward_pre_hook(hook)]):
        yield


@contextmanager
def replace_keyword(module: nn.Module, name: str, edit: Callable[[torch.Tensor], torch.Tensor]) -> Iterator[None]:
    """Runs `edit` on a keyword argument (e.g. the language model's `inputs_embeds`) before the module sees it."""

    def hook(_module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if kwargs.get(name) is None:
            raise RuntimeError(f"{type(_module).__name__} was called without {name}")
        return args, {**kwargs, name: edit(kwargs[name])}

    with registered(lambda: [module.register_forward_pre_hook(hook, with_kwargs=True)]):
        yield


def live_hooks(model: nn.Module) -> int:
    """How many hooks are registered anywhere in `model` (transformers keeps a few of its own; methods must add
    none)."""
    total = 0
    for module in model.modules():
        total += len(module._forward_hooks) + len(module._forward_pre_hooks) + len(module._backward_hooks)
    return total
