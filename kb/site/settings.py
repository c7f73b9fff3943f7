"""The site's settings that pages need, read from the project's mkdocs.yml: its public address and repository.

`repo_url` is the one setting behind every repository link (the header's, "Edit this record", "Report a
problem", "Suggest a paper", the source of a reference implementation); `site_url` makes canonical
addresses and the sitemap. mkdocs.yml may hold `!!python/name:` tags, which are read as nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

CONFIG = "mkdocs.yml"
BRANCH = "main"  # the branch edit links open; the repository's default


@dataclass(frozen=True)
class Settings:
    site_name: str = ""
    site_url: str = ""  # ends with "/" when set
    repo_url: str = ""  # no trailing "/"

    def absolute(self, address: str) -> str:
        """A site-relative address ("papers/x/") as a full URL, or as it is when no site_url is set."""
        return self.site_url + address if self.site_url else address

    def edit(self, path: str) -> str:
        return f"{self.repo_url}/edit/{BRANCH}/{quote(path)}" if self.repo_url else ""

    def source(self, path: str) -> str:
        return f"{self.repo_url}/blob/{BRANCH}/{quote(path)}" if self.repo_url else ""

    def new_issue(self, title: str = "", body: str = "", template: str = "") -> str:
        if not self.repo_url:
            return ""
        query = {k: v for k, v in (("template", template), ("title", title), ("body", body)) if v}
        return f"{self.repo_url}/issues/new" + (f"?{urlencode(query)}" if query else "")


def read(root: Path) -> Settings:
    import yaml

    path = root / CONFIG
    if not path.is_file():
        return Settings()

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    # A SafeLoader subclass whose only additions ignore mkdocs.yml's python tags: nothing is instantiated.
    data: Any = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)  # noqa: S506
    if not isinstance(data, dict):
        return Settings()
    site_url = str(data.get("site_url") or "")
    if site_url and not site_url.endswith("/"):
        site_url += "/"
    return Settings(str(data.get("site_name") or ""), site_url, str(data.get("repo_url") or "").rstrip("/"))
