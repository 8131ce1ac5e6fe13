"""The decision tree: every node of the playbook, its state, and the path taken."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from runbook.playbook.model import Playbook
from runbook.tui.model import ICONS, layout

STYLES = {
    "pending": "dim",
    "current": "bold reverse",
    "running": "bold yellow",
    "finding": "bold red",
    "clear": "green",
    "skipped": "dim italic",
    "overridden": "magenta",
    "concluded": "bold reverse green",
    "unconcluded": "bold reverse yellow",
}


class PlaybookTree(Tree[str]):
    """Nodes laid out along the default path; other branches hang under the node taking them."""

    DEFAULT_CSS = """
    PlaybookTree { padding: 0 1; overflow-x: hidden; }
    """

    @dataclass
    class BackRequested(Message):
        """The engineer chose a visited node: go back there and branch again."""

        node: str

    def __init__(self, playbook: Playbook, **kwargs: object) -> None:
        super().__init__(playbook.title, data=None, **kwargs)  # type: ignore[arg-type]
        self.playbook = playbook
        self.items: dict[str, TreeNode[str]] = {}
        self.states: dict[str, str] = {}
        self.show_root = False
        self.guide_depth = 2

    def on_mount(self) -> None:
        for node_id, parent in layout(self.playbook):
            under = self.items[parent] if parent else self.root
            item = under.add(node_id, data=node_id, expand=True)
            self.items[node_id] = item
        for item in self.items.values():
            if not item.children:
                item.allow_expand = False
        self.root.expand()

    def label_for(self, node_id: str, state: str, on_path: bool) -> Text:
        icon = ICONS.get(state, "·")
        style = STYLES.get(state, "")
        label = Text(f"{icon} ", style=style.replace("reverse", "").strip())
        label.append(node_id, style=style + (" bold" if on_path and state not in ("pending",) else ""))
        return label

    def update_states(self, states: dict[str, str], path: list[str], current: str | None) -> None:
        for node_id, item in self.items.items():
            state = states.get(node_id, "pending")
            if self.states.get(node_id) == state + str(node_id in path):
                continue
            self.states[node_id] = state + str(node_id in path)
            item.set_label(self.label_for(node_id, state, node_id in path))
        if current in self.items and self.cursor_node is not self.items[current]:
            self.move_cursor(self.items[current])

    def on_tree_node_selected(self, event: Tree.NodeSelected[str]) -> None:
        event.stop()
        if event.node.data:
            self.post_message(self.BackRequested(event.node.data))
