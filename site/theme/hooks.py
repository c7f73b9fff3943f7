# mkdocs hooks of the knowledge base's site (listed under `hooks:` in mkdocs.yml): record pages are filled into
# theme-rendered shells after the build (kb/site/shell.py), and pages without a description get one.
from kb.site.shell import on_post_build  # noqa: F401 - mkdocs calls it by name
from kb.site.descriptions import on_page_markdown  # noqa: F401 - mkdocs calls it by name
