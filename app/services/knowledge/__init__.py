"""The knowledge base: articles with versions, categories, links to tickets, full-text search.

What the entry points (web, api, admin, jobs, cli) may call; inside `app.services` import the modules.
"""
from app.infra.exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "articles": ["articles_for_ticket", "can_edit", "can_write_from", "category_tree", "create_category",
                 "delete_article", "descendant_ids", "diff_lines", "draft_from_ticket", "get_article",
                 "get_version", "is_knowledge_admin", "link_ticket", "list_articles", "popular_tags",
                 "render_markdown", "restore_version", "save_article", "tickets_helped", "unlink_ticket",
                 "versions_of"],
    "search": ["search_articles"],
})
