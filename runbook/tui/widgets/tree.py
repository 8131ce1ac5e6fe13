"""The decision tree: every node of the playbook, its state, and the path taken."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import Static, Tree
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

    def label_for(self, node_id: str, state: str, step: int | None) -> Text:
        """Icon, the step number on the walked path (highlighted), and the node's name."""
        icon = ICONS.get(state, "·")
        style = STYLES.get(state, "")
        label = Text(f"{icon} ", style=style.replace("reverse", "").strip())
        if step is not None:
            label.append(f"{step}", style="bold reverse")
            label.append(" ")
            style += " bold"
        label.append(node_id, style=style)
        return label

    def update_states(self, states: dict[str, str], path: list[str], current: str | None) -> None:
        steps = {n: i for i, n in enumerate(path, 1)}  # a node visited twice shows its last step
        for node_id, item in self.items.items():
            state = states.get(node_id, "pending")
            key = f"{state}:{steps.get(node_id)}"
            if self.states.get(node_id) == key:
                continue
            self.states[node_id] = key
            item.set_label(self.label_for(node_id, state, steps.get(node_id)))
        if current in self.items and self.cursor_node is not self.items[current]:
            self.move_cursor(self.items[current])

    def on_tree_node_selected(self, event: Tree.NodeSelected[str]) -> None:
        event.stop()
        if event.node.data:
            self.post_message(self.BackRequested(event.node.data))


class TreeLegend(Static):
    """What the marks in the tree mean."""

    DEFAULT_CSS = """
    TreeLegend { height: auto; padding: 0 1; color: $text-muted; }
    """

    WORDS = [
        ("current", "current"),
        ("finding", "finding"),
        ("clear", "clear"),
        ("skipped", "skipped"),
        ("overridden", "overridden"),
        ("concluded", "conclusion"),
        ("pending", "not visited"),
    ]

    def on_mount(self) -> None:
        text = Text()
        for i, (state, word) in enumerate(self.WORDS):
            if i:
                text.append("  ")
            text.append(ICONS[state], style=STYLES[state].replace("reverse", "").strip())
            text.append(f" {word}")
        text.append("  ")
        text.append("3", style="bold reverse")
        text.append(" step on the path")
        self.update(text)
