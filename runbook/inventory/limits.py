"""Bounds on what an inventory or ssh_config may ask for; each error names the limit and file:line."""

#: OpenSSH's READCONF_MAX_DEPTH
MAX_INCLUDE_DEPTH = 16
#: hosts one range pattern (`app[0:99]`, `app[0:9][0:9]`) may expand to
MAX_RANGE_HOSTS = 10_000
#: hosts one inventory may name in all
MAX_HOSTS = 50_000
#: nesting of `children` groups (Ansible itself has no limit; 1,100 levels is no real inventory)
MAX_GROUP_DEPTH = 100
#: bytes of one inventory file
MAX_FILE_BYTES = 16 * 1024 * 1024
