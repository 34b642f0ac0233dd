"""Interface strings in Chinese (default) and English.

The interface language is the reader's choice in the sidebar; answers follow
the language of the question, as the engine decides.
"""

from __future__ import annotations

LANGUAGES = {"zh": "中文", "en": "English"}

STRINGS: dict[str, dict[str, str]] = {
    "app_title": {"zh": "政策问答", "en": "Policy Q&A"},
    "app_tagline": {"zh": "基于已收录政策文件作答，每个回答都附有可核对的原文出处。",
                    "en": "Answers come only from the indexed policy documents, each with a quote you can check."},
    "nav_chat": {"zh": "问答", "en": "Chat"},
    "nav_staff": {"zh": "管理（工作人员）", "en": "Staff"},
    "nav_kb": {"zh": "知识库", "en": "Knowledge base"},
    "nav_eval": {"zh": "评测", "en": "Evaluation"},
    "nav_feedback": {"zh": "用户反馈", "en": "Feedback"},
    "language": {"zh": "界面语言", "en": "Language"},
    "new_chat": {"zh": "新对话", "en": "New chat"},
    "export_chat": {"zh": "导出对话（Markdown）", "en": "Export chat (Markdown)"},
    "status": {"zh": "系统状态", "en": "Status"},
    "status_engine": {"zh": "回答引擎", "en": "Engine"},
    "status_docs": {"zh": "文档 {docs} 篇 · 片段 {chunks} 个", "en": "{docs_counted} · {chunks_counted}"},
    "status_chroma_embedded": {"zh": "Chroma：嵌入式", "en": "Chroma: embedded"},
    "status_chroma_server": {"zh": "Chroma：服务器 {where}", "en": "Chroma: server {where}"},
    "status_loading": {"zh": "正在加载…", "en": "Loading…"},
    "chat_placeholder": {"zh": "请输入您关于政策文件的问题", "en": "Ask a question about the policy documents"},
    "loading_engine": {"zh": "正在加载检索模型…", "en": "Loading the search model…"},
    "building_index_start": {"zh": "正在准备索引（首次启动时需先为资料库建立索引）…",
                             "en": "Preparing the index (the first start builds it from the documents)…"},
    "index_built": {"zh": "索引已建立：{summary}", "en": "Index built: {summary}"},
    "indexing_running": {"zh": "索引仍在进行：还有 {n} 个片段暂时只能按关键词检索，嵌入完成后即可按语义检索。",
                         "en": "Indexing is still running: {n} chunks are found by keyword only until they are embedded."},
    "empty_corpus": {"zh": "资料库中还没有文档。请工作人员在“知识库”页面上传文件，或把文件放入 {path} 后重新索引。",
                     "en": "No documents are indexed yet. Staff can upload files on the Knowledge base page, "
                           "or put files in {path} and re-index."},
    "suggest_title": {"zh": "可以这样问：", "en": "Try asking:"},
    "thinking": {"zh": "正在检索资料…", "en": "Searching the documents…"},
    "searched_as": {"zh": "检索时理解为：{q}", "en": "Searched as: {q}"},
    "sources": {"zh": "出处", "en": "Sources"},
    "open_document": {"zh": "在全文中查看", "en": "Open the full document"},
    "jump_to_quote": {"zh": "↓ 跳到引用处", "en": "↓ Jump to the quote"},
    "document_missing": {"zh": "该文档已不在索引中（可能已被删除或重新索引）。",
                         "en": "This document is no longer in the index (deleted or re-indexed)."},
    "refusal_hint": {"zh": "目前收录的资料包括：{titles}。可以就这些文件的内容提问。",
                     "en": "The indexed documents are: {titles}. Ask about what they contain."},
    "refusal_hint_more": {"zh": "等 {n} 篇", "en": "and {n} in total"},
    "fb_up": {"zh": "有帮助", "en": "Helpful"},
    "fb_down": {"zh": "没有帮助", "en": "Not helpful"},
    "fb_wrong_source": {"zh": "来源有误", "en": "Wrong source"},
    "fb_thanks": {"zh": "已记录反馈，谢谢！可补充说明：", "en": "Thanks, feedback saved. Add a comment if you like:"},
    "fb_comment": {"zh": "补充说明（可选）", "en": "Comment (optional)"},
    "fb_comment_save": {"zh": "提交说明", "en": "Save comment"},
    "fb_comment_saved": {"zh": "说明已保存。", "en": "Comment saved."},
    "export_title": {"zh": "政策问答对话记录", "en": "Policy Q&A conversation"},
    "export_question": {"zh": "问题", "en": "Question"},
    "export_searched": {"zh": "检索问题", "en": "Searched as"},
    "export_sources": {"zh": "出处", "en": "Sources"},
    # staff
    "staff_disabled": {"zh": "管理页面未启用。设置环境变量 BOT_ADMIN_PASSWORD（例如 `BOT_ADMIN_PASSWORD=... streamlit run ui/app.py`）后重启即可使用。",
                       "en": "Staff pages are disabled. Set BOT_ADMIN_PASSWORD (e.g. `BOT_ADMIN_PASSWORD=... streamlit run ui/app.py`) and restart to enable them."},
    "staff_password": {"zh": "管理密码", "en": "Staff password"},
    "staff_login": {"zh": "登录", "en": "Sign in"},
    "staff_logout": {"zh": "退出管理", "en": "Sign out"},
    "staff_wrong": {"zh": "密码错误。", "en": "Wrong password."},
    "staff_busy": {"zh": "该网络地址的登录尝试过多，正在逐个处理，请几秒后再试。",
                   "en": "Many sign-in attempts from this address; they are taken one at a time — try again in a few "
                         "seconds."},
    "staff_locked": {"zh": "尝试次数过多，请 {seconds} 秒后再试。", "en": "Too many attempts; try again in {seconds} s."},
    "kb_title": {"zh": "知识库", "en": "Knowledge base"},
    "kb_upload": {"zh": "上传文档（{types}；单个文件不超过 {mb} MB）", "en": "Upload documents ({types}; at most {mb} MB each)"},
    "kb_replace": {"zh": "覆盖同名文件", "en": "Replace files with the same name"},
    "kb_ingest": {"zh": "保存并索引", "en": "Save and index"},
    "kb_saving": {"zh": "正在保存 {name}…", "en": "Saving {name}…"},
    "kb_indexing": {"zh": "正在索引…", "en": "Indexing…"},
    "kb_file_ok": {"zh": "{name} → {stored}", "en": "{name} → {stored}"},
    "kb_file_error": {"zh": "{name}：{error}", "en": "{name}: {error}"},
    "ingest_summary": {"zh": "{files}、{documents}：新增 {added}，更新 {updated}，未变 {unchanged}，移除 {removed}；"
                             "向量化 {embedded}，索引共 {total} 个片段（{seconds} 秒）",
                       "en": "{files}, {documents}: {added} added, {updated} updated, {unchanged} unchanged, "
                             "{removed} removed; {embedded} embedded, {total} in the index ({seconds} s)"},
    "ingest_problems": {"zh": "；报告了 {problems}", "en": "; {problems} reported"},
    "kb_summary": {"zh": "完成：{summary}", "en": "Done: {summary}"},
    "kb_documents": {"zh": "已索引文档", "en": "Indexed documents"},
    "kb_no_documents": {"zh": "还没有已索引的文档。", "en": "No documents are indexed yet."},
    "kb_col_id": {"zh": "文档 ID", "en": "Document id"},
    "kb_col_title": {"zh": "标题", "en": "Title"},
    "kb_col_date": {"zh": "日期", "en": "Date"},
    "kb_col_chunks": {"zh": "片段数", "en": "Chunks"},
    "kb_col_source": {"zh": "来源", "en": "Source"},
    "kb_delete": {"zh": "删除所选文档", "en": "Delete the selected document"},
    "kb_delete_pick": {"zh": "选择要删除的文档", "en": "Document to delete"},
    "upload_unsupported": {"zh": "{name}：不支持 {suffix} 类型的文件，请使用 {allowed}",
                           "en": "{name}: file type {suffix} is not supported — use one of {allowed}"},
    "upload_too_big": {"zh": "{name}：{size} MB 超过 {limit} MB 的上限，请拆分文档或调高 BOT_UPLOAD_MAX_MB",
                       "en": "{name}: {size} MB is over the {limit} MB limit — split the document or raise "
                             "BOT_UPLOAD_MAX_MB"},
    "upload_empty": {"zh": "{name}：文件是空的，请确认选择了正确的文件", "en": "{name}: the file is empty — check that "
                                                                              "the right file was chosen"},
    "upload_bad_name": {"zh": "{name}：文件名无效，请重命名后重新上传", "en": "{name}: not a valid file name — rename "
                                                                            "the file and upload it again"},
    "upload_cannot_save": {"zh": "{name}：无法保存（{reason}），请缩短文件名，或检查资料库目录的空间和权限",
                           "en": "{name}: cannot be saved ({reason}) — shorten the name, or check space and "
                                 "permissions of the corpus folder"},
    "kb_os_error": {"zh": "无法处理文件 {path}：{reason}。请检查文件名长度、磁盘空间以及资料库和数据目录的权限。",
                    "en": "Cannot handle the file {path}: {reason}. Check the name's length, the free space and the "
                          "permissions of the corpus and data folders."},
    "kb_delete_placeholder": {"zh": "请选择文档…", "en": "Choose a document…"},
    "kb_delete_needs_choice": {"zh": "请先选择要删除的文档，并勾选确认。", "en": "Choose a document and tick the confirmation first."},
    "kb_delete_confirm": {"zh": "我确认删除（文件移入 {trash}）", "en": "I confirm (the file is moved to {trash})"},
    "kb_deleted": {"zh": "已删除 {doc_id}（{chunks} 个片段）。{file}", "en": "Deleted {doc_id} ({chunks} chunks). {file}"},
    "kb_deleted_file": {"zh": "源文件已移至 {path}。", "en": "Its file was moved to {path}."},
    "kb_deleted_nofile": {"zh": "未找到其源文件；重新索引时它可能会再次出现。",
                          "en": "Its file was not found; a re-index may bring it back."},
    "kb_reindex": {"zh": "重新索引整个资料库", "en": "Re-index the whole corpus"},
    "kb_corpus_at": {"zh": "资料库目录：{path}", "en": "Corpus folder: {path}"},
    "eval_title": {"zh": "评测", "en": "Evaluation"},
    "eval_unavailable": {"zh": "评测模块不可用：{error}", "en": "The evaluation package is not available: {error}"},
    "eval_pick": {"zh": "选择问题集", "en": "Golden set"},
    "eval_upload": {"zh": "或上传问题集（YAML / JSONL）", "en": "Or upload a golden set (YAML / JSONL)"},
    "eval_none": {"zh": "tests/golden/ 下没有问题集，请上传一个。", "en": "No golden sets under tests/golden/; upload one."},
    "eval_run": {"zh": "运行评测", "en": "Run the evaluation"},
    "eval_running": {"zh": "正在评测 {n} 个问题…", "en": "Evaluating {n} questions…"},
    "eval_summary": {"zh": "汇总", "en": "Summary"},
    "eval_failures": {"zh": "未通过的问题（{n}）", "en": "Failing cases ({n})"},
    "eval_all_passed": {"zh": "全部通过。", "en": "All cases passed."},
    "eval_download_json": {"zh": "下载 JSON 报告", "en": "Download the JSON report"},
    "eval_download_html": {"zh": "下载 HTML 报告", "en": "Download the HTML report"},
    "fbp_title": {"zh": "用户反馈", "en": "Feedback"},
    "fbp_counts": {"zh": "有帮助 {up} · 没有帮助 {down} · 来源有误 {wrong_source}",
                   "en": "helpful {up} · not helpful {down} · wrong source {wrong_source}"},
    "fbp_filter": {"zh": "筛选", "en": "Show"},
    "fbp_col_time": {"zh": "时间", "en": "time"},
    "fbp_col_rating": {"zh": "评价", "en": "rating"},
    "fbp_col_question": {"zh": "问题", "en": "question"},
    "fbp_col_searched": {"zh": "检索问题", "en": "searched as"},
    "fbp_col_answer": {"zh": "回答", "en": "answer"},
    "fbp_col_comment": {"zh": "说明", "en": "comment"},
    "fbp_none": {"zh": "还没有反馈。", "en": "No feedback yet."},
    "fbp_export_up": {"zh": "下载已认可的问题（有帮助，可直接用于评测）", "en": "Download approved cases (helpful, ready for evaluation)"},
    "fbp_export_review": {"zh": "下载待复核的问题（没有帮助 / 来源有误）", "en": "Download cases to review (not helpful / wrong source)"},
    "fbp_cli": {"zh": "命令行导出：", "en": "From the command line:"},
    "rating_up": {"zh": "有帮助", "en": "helpful"},
    "rating_down": {"zh": "没有帮助", "en": "not helpful"},
    "rating_wrong_source": {"zh": "来源有误", "en": "wrong source"},
}


# The engine names its progress bars in English ("embedding chunks"); the reader sees these instead.
PROGRESS: dict[str, dict[str, str]] = {
    "embedding chunks": {"zh": "正在向量化文档片段", "en": "Embedding chunks"},
    "keyword index": {"zh": "正在建立关键词索引", "en": "Building the keyword index"},
    "evaluating": {"zh": "正在评测", "en": "Evaluating"},
}


# Counted nouns: Chinese has measure words and no plural; English has "1 document" / "2 documents".
COUNTED: dict[str, dict[str, tuple[str, str]]] = {
    "file": {"zh": ("{n} 个文件", "{n} 个文件"), "en": ("{n} file", "{n} files")},
    "document": {"zh": ("{n} 篇文档", "{n} 篇文档"), "en": ("{n} document", "{n} documents")},
    "chunk": {"zh": ("{n} 个片段", "{n} 个片段"), "en": ("{n} chunk", "{n} chunks")},
    "problem": {"zh": ("{n} 个问题", "{n} 个问题"), "en": ("{n} problem", "{n} problems")},
    "question": {"zh": ("{n} 个问题", "{n} 个问题"), "en": ("{n} question", "{n} questions")},
}


def counted(n: int, noun: str, lang: str) -> str:
    """``n`` with its noun in ``lang``: "1 document", "2 documents", "2 篇文档"."""
    one, other = COUNTED[noun].get(lang) or COUNTED[noun]["zh"]
    return (one if n == 1 else other).format(n=n)


def ingest_summary(report: object, lang: str) -> str:
    """What an ingest did (an ``IngestReport``), in the reader's language."""
    def count(name: str) -> int:
        value = getattr(report, name, 0)
        return len(value) if isinstance(value, list | tuple | set) else int(value or 0)

    summary = text("ingest_summary", lang, files=counted(count("files"), "file", lang),
                   documents=counted(count("documents"), "document", lang), added=count("added"),
                   updated=count("updated"), unchanged=count("unchanged"), removed=count("removed"),
                   embedded=counted(count("chunks_embedded"), "chunk", lang), total=count("chunks_total"),
                   seconds=f"{float(getattr(report, 'seconds', 0.0)):.1f}")
    problems = count("errors")
    return summary + (text("ingest_problems", lang, problems=counted(problems, "problem", lang)) if problems else "")


def progress_label(desc: str, lang: str) -> str:
    """A progress bar's name in ``lang`` (the engine's own words when unknown)."""
    return PROGRESS.get(desc, {}).get(lang) or desc


def text(key: str, lang: str, **values: object) -> str:
    """The string ``key`` in ``lang`` (Chinese when missing), formatted with ``values``."""
    entry = STRINGS[key]
    template = entry.get(lang) or entry["zh"]
    return template.format(**values) if values else template
