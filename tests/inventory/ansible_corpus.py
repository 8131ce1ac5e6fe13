"""Ansible inventories for the differential tests: (id, files, source).

`files` maps a path (relative to the case directory) to its text; `source` is what `-i` gets
("." for the directory itself). The expected answer is never written here: `ansible-inventory
--list` gives it at test time.
"""

from __future__ import annotations

Case = tuple[str, dict[str, str], str]

INI_BASIC = "gw1 ansible_host=10.0.0.1\n[web]\napp1 ansible_host=10.0.0.2\napp2\n"

CASES: list[Case] = [
    # --- the disagreements issue 14 lists ---
    (
        "ini-ungrouped-only-no-suffix",
        {"hosts": "alpha\nbeta ansible_host=10.0.0.9\ngamma ansible_port=2201\n"},
        "hosts",
    ),
    ("ini-ungrouped-then-groups", {"hosts": INI_BASIC}, "hosts"),
    (
        "yaml-without-all",
        {"inv.yml": "web:\n  hosts:\n    a1:\n    a2: {ansible_port: 2222}\ndb:\n  hosts:\n    d1:\n"},
        "inv.yml",
    ),
    (
        "yaml-doc-example",
        {
            "inv.yaml": "ungrouped:\n  hosts:\n    mail.example.com:\nwebservers:\n  hosts:\n"
            "    foo.example.com:\n    bar.example.com:\ndbservers:\n  hosts:\n    one.example.com:\n"
            "    two.example.com:\n    three.example.com:\n"
        },
        "inv.yaml",
    ),
    ("ini-host-port", {"hosts.ini": "[web]\nweb1:2222\n10.0.0.7:2200 ansible_user=ops\n"}, "hosts.ini"),
    ("ini-ipv6-port", {"hosts.ini": "[web]\n[2001:db8::1]:2200\n2001:db8::2\n"}, "hosts.ini"),
    ("yaml-host-port", {"inv.yml": "all:\n  hosts:\n    'web1:2222':\n    '[2001:db8::5]:2201':\n"}, "inv.yml"),
    (
        "precedence-depth-then-alpha",
        {"hosts.ini": "[b]\nh1\n[a]\nh1\n[b:vars]\nx=from-b\n[a:vars]\nx=from-a\n"},
        "hosts.ini",
    ),
    (
        "precedence-deeper-wins",
        {
            "hosts.ini": "[child]\nh1\n[parent:children]\nchild\n[child:vars]\nx=child\n"
            "[parent:vars]\nx=parent\ny=parent\n[all:vars]\nx=all\ny=all\nz=all\n"
        },
        "hosts.ini",
    ),
    (
        "precedence-file-order-irrelevant",
        {"hosts.ini": "[z:vars]\nv=z\n[z]\nh1\n[a]\nh1\n[a:vars]\nv=a\n"},
        "hosts.ini",
    ),
    (
        "group-priority",
        {
            "inv.yml": "all:\n  children:\n    a:\n      vars: {v: a, ansible_group_priority: 10}\n"
            "      hosts: {h1: }\n    b:\n      vars: {v: b}\n      hosts: {h1: }\n"
        },
        "inv.yml",
    ),
    (
        "ini-vars-quotes",
        {"hosts.ini": "[web]\nh1\n[web:vars]\nansible_user=\"ubuntu\"\nq='single'\nn=42\nb=True\n"},
        "hosts.ini",
    ),
    ("ini-section-comment", {"hosts.ini": "[web] # front ends\nh1\n[web:vars] # settings\nx=1\n"}, "hosts.ini"),
    (
        "group-vars-dir",
        {
            "hosts.ini": "[web]\nh1\nh2\n",
            "group_vars/web.yml": "service: app\nport: 8080\n",
            "group_vars/all.yml": "region: eu\nservice: base\n",
        },
        "hosts.ini",
    ),
    (
        "host-vars-dir",
        {
            "hosts.ini": "[web]\nh1 x=inline\n",
            "host_vars/h1.yml": "x: file\ny: file\n",
            "group_vars/web": "y: group\nz: group\n",
        },
        "hosts.ini",
    ),
    (
        "group-vars-subdir",
        {"hosts.ini": "[web]\nh1\n", "group_vars/web/10-a.yml": "a: 1\nb: 1\n", "group_vars/web/20-b.yml": "b: 2\n"},
        "hosts.ini",
    ),
    (
        "yaml-unknown-key-warns",
        {"inv.yml": "all:\n  children:\n    web:\n      hostz:\n        x: {}\n      hosts:\n        h1:\n"},
        "inv.yml",
    ),
    # --- ranges ---
    ("range-numeric", {"hosts.ini": "[web]\nweb[01:10]\n"}, "hosts.ini"),
    ("range-no-pad", {"hosts.ini": "[web]\nweb[1:12]\n"}, "hosts.ini"),
    ("range-step", {"hosts.ini": "[web]\nweb[0:20:5]\n"}, "hosts.ini"),
    ("range-alpha", {"hosts.ini": "[db]\ndb-[a:f].example\n"}, "hosts.ini"),
    ("range-two", {"hosts.ini": "[grid]\nn[1:3]-[a:b]\n"}, "hosts.ini"),
    (
        "range-yaml",
        {"inv.yml": "all:\n  children:\n    web:\n      hosts:\n        'web[1:4]':\n          port: 8080\n"},
        "inv.yml",
    ),
    ("range-with-port", {"hosts.ini": "[web]\nweb[1:3]:2222\n"}, "hosts.ini"),
    # --- children ---
    ("children-ini", {"hosts.ini": "[a]\nh1\n[b]\nh2\n[ab:children]\na\nb\n[ab:vars]\nshared=yes\n"}, "hosts.ini"),
    ("children-before-defined", {"hosts.ini": "[top:children]\nmid\n[mid:children]\nleaf\n[leaf]\nh1\n"}, "hosts.ini"),
    (
        "children-yaml-nested",
        {
            "inv.yml": "all:\n  children:\n    dc:\n      vars: {tier: dc}\n      children:\n"
            "        rack1:\n          hosts: {h1: {}}\n        rack2:\n          vars: {tier: rack2}\n"
            "          hosts: {h2: {}}\n"
        },
        "inv.yml",
    ),
    (
        "children-diamond",
        {
            "hosts.ini": "[l]\nh1\n[m1:children]\nl\n[m2:children]\nl\n[t:children]\nm1\nm2\n"
            "[m1:vars]\nv=m1\n[m2:vars]\nv=m2\n[t:vars]\nv=t\n"
        },
        "hosts.ini",
    ),
    ("host-in-two-groups", {"hosts.ini": "[a]\nh1 x=1\n[b]\nh1 y=2\n"}, "hosts.ini"),
    ("host-vars-merge-later-wins", {"hosts.ini": "[a]\nh1 x=1\n[b]\nh1 x=2\n"}, "hosts.ini"),
    ("ungrouped-and-group", {"hosts.ini": "h1\n[g]\nh1\n"}, "hosts.ini"),
    (
        "all-hosts-yaml",
        {"inv.yml": "all:\n  hosts:\n    h1:\n    h2: {ansible_host: 10.1.1.1}\n  vars:\n    v: all\n"},
        "inv.yml",
    ),
    ("all-vars-ini", {"hosts.ini": "h1\n[all:vars]\nntp=10.0.0.1\n"}, "hosts.ini"),
    # --- values ---
    ("ini-literals", {"hosts.ini": "h1 i=5 f=1.5 b=False l=\"[1, 2]\" d=\"{'k': 'v'}\" s=text\n"}, "hosts.ini"),
    ("ini-quoted-spaces", {"hosts.ini": "h1 msg=\"hello world\" path='/a b'\n"}, "hosts.ini"),
    ("ini-trailing-comment-host", {"hosts.ini": "[web]\nh1 x=1 # comment\n"}, "hosts.ini"),
    ("ini-vars-comment-kept", {"hosts.ini": "[web]\nh1\n[web:vars]\nx=1 # kept as text\n"}, "hosts.ini"),
    ("ini-semicolon-comment", {"hosts.ini": "; comment\n[web]\n; another\nh1\n"}, "hosts.ini"),
    ("yaml-booleans-11", {"inv.yml": "all:\n  hosts:\n    h1: {a: yes, b: no, c: on, d: 'yes'}\n"}, "inv.yml"),
    ("yaml-nested-vars", {"inv.yml": "all:\n  hosts:\n    h1:\n      app: {port: 8080, paths: [/a, /b]}\n"}, "inv.yml"),
    (
        "connection-vars",
        {
            "hosts.ini": "h1 ansible_host=10.2.2.2 ansible_port=2200 ansible_user=ops "
            "ansible_ssh_private_key_file=keys/id ansible_become=true\n"
        },
        "hosts.ini",
    ),
    (
        "old-connection-vars",
        {"hosts.ini": "h1 ansible_ssh_host=10.3.3.3 ansible_ssh_port=2201 ansible_ssh_user=old\n"},
        "hosts.ini",
    ),
    ("explicit-port-22", {"hosts.ini": "h1 ansible_port=22\n"}, "hosts.ini"),
    (
        "ssh-common-args-proxyjump",
        {"hosts.ini": "[web]\nh1\n[web:vars]\nansible_ssh_common_args='-o ProxyJump=ops@bastion:2222'\n"},
        "hosts.ini",
    ),
    (
        "ssh-common-args-J",
        {
            "inv.yml": "all:\n  vars:\n    ansible_ssh_common_args: -J gw1 -o UserKnownHostsFile=/kh\n"
            "  hosts:\n    h1:\n    gw1: {ansible_host: 10.0.0.1}\n"
        },
        "inv.yml",
    ),
    ("become-no", {"hosts.ini": "h1 ansible_become=no\n"}, "hosts.ini"),
    (
        "vault-inline",
        {
            "inv.yml": "all:\n  hosts:\n    h1:\n      secret: !vault |\n"
            "        $ANSIBLE_VAULT;1.1;AES256\n        6162636465\n"
        },
        "inv.yml",
    ),
    # --- directories ---
    (
        "dir-ini-and-yaml",
        {
            "inv/10-hosts.ini": "[web]\nh1\n",
            "inv/20-more.yml": "db:\n  hosts:\n    d1:\n",
            "inv/group_vars/web.yml": "port: 8080\n",
        },
        "inv",
    ),
    (
        "dir-ignored-exts",
        {"inv/hosts": "h1\n", "inv/hosts.bak": "bad [[[\n", "inv/README.md": "# nope\n", "inv/x.orig": "zz\n"},
        "inv",
    ),
    (
        "dir-host-vars",
        {"inv/hosts": "[web]\nh1\n", "inv/host_vars/h1/main.yml": "a: 1\n", "inv/host_vars/h1/more.yml": "b: 2\n"},
        "inv",
    ),
    (
        "dir-group-vars-all",
        {"inv/hosts.yml": "all:\n  hosts:\n    h1:\n", "inv/group_vars/all/main.yml": "v: all\n"},
        "inv",
    ),
    ("group-vars-json", {"hosts.ini": "[web]\nh1\n", "group_vars/web.json": '{"j": 1}\n'}, "hosts.ini"),
    (
        "group-vars-vs-inline",
        {
            "hosts.ini": "[web]\nh1\n[web:vars]\nv=inline\n",
            "group_vars/web.yml": "v: file\n",
            "group_vars/all.yml": "v: all-file\n",
        },
        "hosts.ini",
    ),
    (
        "host-vars-vs-groupvars",
        {"hosts.ini": "[web]\nh1\n", "group_vars/web.yml": "v: group\n", "host_vars/h1": "v: host\n"},
        "hosts.ini",
    ),
    # --- errors both must refuse ---
    ("err-bad-section", {"hosts.ini": "[web\nh1\n"}, "hosts.ini"),
    ("err-bad-assignment", {"hosts.ini": "[web]\nh1 novalue\n"}, "hosts.ini"),
    ("err-vars-undefined-group", {"hosts.ini": "h1\n[ghost:vars]\nx=1\n"}, "hosts.ini"),
    ("err-children-undefined", {"hosts.ini": "h1\n[p:children]\nnobody\n"}, "hosts.ini"),
    ("err-vars-no-equals", {"hosts.ini": "[web]\nh1\n[web:vars]\njustaword\n"}, "hosts.ini"),
    ("err-unknown-section-type", {"hosts.ini": "[web:nonsense]\nh1\n"}, "hosts.ini"),
    ("err-trailing-colon", {"hosts.ini": "[web]\nh1:\n"}, "hosts.ini"),
    ("err-bad-yaml", {"inv.yml": "all:\n  hosts:\n    h1: [unclosed\n"}, "inv.yml"),
    ("err-unbalanced-quote", {"hosts.ini": 'h1 x="open\n'}, "hosts.ini"),
]
