"""The library's schema, created and upgraded by numbered migrations on open.

``PRAGMA user_version`` holds the number of the last migration applied. A file with a
higher number was written by a newer Citedesk and is refused rather than damaged.
:func:`db.store.migrate` applies them.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: the first schema.
    """
    CREATE TABLE papers (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        entry_type TEXT NOT NULL,
        fields TEXT NOT NULL DEFAULT '[]',
        source TEXT,
        title TEXT NOT NULL DEFAULT '',
        title_sort TEXT NOT NULL DEFAULT '',
        authors TEXT NOT NULL DEFAULT '',
        authors_full TEXT NOT NULL DEFAULT '',
        first_author TEXT NOT NULL DEFAULT '',
        year INTEGER,
        month INTEGER,
        date TEXT,
        venue TEXT NOT NULL DEFAULT '',
        volume TEXT,
        number TEXT,
        pages TEXT,
        doi TEXT,
        url TEXT,
        arxiv TEXT,
        abstract TEXT NOT NULL DEFAULT '',
        keywords TEXT NOT NULL DEFAULT '',
        category TEXT,
        tags TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'unread' CHECK (status IN ('unread', 'reading', 'read')),
        status_changed TEXT,
        rating INTEGER NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
        added TEXT NOT NULL,
        modified TEXT NOT NULL
    );
    CREATE UNIQUE INDEX papers_key ON papers(key COLLATE NOCASE);
    CREATE INDEX papers_doi ON papers(doi COLLATE NOCASE) WHERE doi IS NOT NULL;
    CREATE INDEX papers_arxiv ON papers(arxiv) WHERE arxiv IS NOT NULL;
    CREATE INDEX papers_title_sort ON papers(title_sort, id);
    CREATE INDEX papers_first_author ON papers(first_author, id);
    CREATE INDEX papers_year ON papers(year, id);
    CREATE INDEX papers_venue ON papers(venue COLLATE NOCASE, id);
    CREATE INDEX papers_status ON papers(status, id);
    CREATE INDEX papers_rating ON papers(rating, id);
    CREATE INDEX papers_added ON papers(added, id);
    CREATE INDEX papers_tags ON papers(tags COLLATE NOCASE, id);

    CREATE TABLE persons (
        paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('author', 'editor')),
        position INTEGER NOT NULL,
        family TEXT NOT NULL,
        given TEXT NOT NULL DEFAULT '',
        prefix TEXT NOT NULL DEFAULT '',
        suffix TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (paper_id, role, position)
    ) WITHOUT ROWID;

    CREATE TABLE tags (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        color TEXT
    );
    CREATE TABLE paper_tags (
        paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
        PRIMARY KEY (paper_id, tag_id)
    ) WITHOUT ROWID;
    CREATE INDEX paper_tags_tag ON paper_tags(tag_id, paper_id);

    CREATE TABLE notes (
        id INTEGER PRIMARY KEY,
        paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        body TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE INDEX notes_paper ON notes(paper_id, id);

    CREATE TABLE key_aliases (
        alias TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
        paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE
    );

    -- @string, @preamble and @comment blocks, kept as they came.
    CREATE TABLE blocks (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('string', 'preamble', 'comment')),
        name TEXT,
        value TEXT NOT NULL,
        source TEXT NOT NULL
    );
    CREATE UNIQUE INDEX blocks_string ON blocks(name COLLATE NOCASE) WHERE kind = 'string';

    CREATE TABLE settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );

    CREATE VIRTUAL TABLE papers_fts USING fts5(
        title, authors, abstract, venue, keywords, tags, notes,
        tokenize = 'unicode61 remove_diacritics 2',
        prefix = '1 2 3'
    );
    """,
    # 2: sorting by year puts papers without one last, which papers_year cannot do; at
    # 100,000 papers that sort took 100 ms in a temporary B-tree, over this index 20 ms.
    """
    CREATE INDEX IF NOT EXISTS papers_year_sort ON papers(year IS NULL, year, id);
    """,
    # 3: abstracts get a search index of their own, without prefix indexes. Abstracts are
    # three quarters of the words, and prefix indexes for 1, 2 and 3 letters made the
    # index four times the work: at 100,000 papers, 10.5 s of an import's 25 s. Words of
    # three letters or more find the start of abstract words without them (a few ms);
    # shorter ones match whole abstract words (see db/search.py).
    """
    DROP TABLE papers_fts;
    CREATE VIRTUAL TABLE papers_fts USING fts5(
        title, authors, venue, keywords, tags, notes,
        tokenize = 'unicode61 remove_diacritics 2',
        prefix = '1 2 3'
    );
    CREATE VIRTUAL TABLE papers_abstract USING fts5(
        abstract,
        tokenize = 'unicode61 remove_diacritics 2'
    );
    INSERT INTO papers_fts(rowid, title, authors, venue, keywords, tags, notes)
        SELECT p.id, p.title, p.authors_full, p.venue, p.keywords, p.tags,
               coalesce((SELECT group_concat(body, ' ') FROM notes n WHERE n.paper_id = p.id), '')
        FROM papers p;
    INSERT INTO papers_abstract(rowid, abstract)
        SELECT id, abstract FROM papers WHERE abstract != '';
    """,
    # 4: a library keeps the layout of the files it imported, so that a file exported whole
    # comes back byte for byte. Papers and blocks get a place (``pos``, one sequence for
    # both, in file order) and the text before them in their file (``lead``; NULL: a blank
    # line, for papers made in Citedesk). The text after a file's last block is a block of
    # kind 'text'. Blocks are no longer merged: a @string defined again is a second row (it
    # holds from its place on, as in BibTeX), and identical @comments and @preambles stay
    # where each was. ``files`` records each imported file's encoding and line ends.
    # Existing rows get places that keep the order export wrote them in until now.
    """
    CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL,
        encoding TEXT NOT NULL,
        newline TEXT NOT NULL DEFAULT '\n',
        imported TEXT NOT NULL
    );
    CREATE TABLE blocks_new (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('string', 'preamble', 'comment', 'text')),
        name TEXT,
        value TEXT NOT NULL,
        source TEXT NOT NULL,
        pos INTEGER NOT NULL,
        lead TEXT,
        file_id INTEGER REFERENCES files(id) ON DELETE CASCADE
    );
    INSERT INTO blocks_new(id, kind, name, value, source, pos)
        SELECT id, kind, name, value, source,
               CASE kind WHEN 'preamble' THEN 0 WHEN 'string' THEN 1 ELSE 3 END * 1000000000 + id
        FROM blocks;
    DROP TABLE blocks;
    ALTER TABLE blocks_new RENAME TO blocks;
    CREATE INDEX blocks_pos ON blocks(pos);
    CREATE INDEX blocks_string ON blocks(name COLLATE NOCASE, pos) WHERE kind = 'string';
    CREATE INDEX blocks_file ON blocks(file_id) WHERE file_id IS NOT NULL;
    ALTER TABLE papers ADD COLUMN pos INTEGER;
    ALTER TABLE papers ADD COLUMN lead TEXT;
    UPDATE papers SET pos = 2000000000 + r.n
        FROM (SELECT id, row_number() OVER (ORDER BY added, id) AS n FROM papers) AS r
        WHERE r.id = papers.id;
    CREATE INDEX papers_pos ON papers(pos);
    """,
    # 5: the papers themselves. ``attachments``: any number of files per paper, each
    # *stored* (``path`` relative to the library's files folder, which Citedesk names and
    # moves) or *linked* (``path`` absolute, left where it is), with the content's SHA-256,
    # size and modification time as last seen (relinking finds moved files by hash).
    # Stored files follow their rows: triggers note in ``file_moves`` every stored path a
    # write takes away or brings in, in the write's own transaction, and after it commits
    # db/attachments.py makes the files folder match the rows (a file no row claims goes to
    # ``.trash/<hash>``; a row whose file is not there takes it from there). Undo, redo, a
    # deleted paper and a crash between commit and the move all come right the same way.
    # ``documents`` and ``pages_fts``: the text of each distinct file content (by hash, so
    # the same PDF attached twice is read once), page by page; a page's rowid is the
    # document's id * 2**20 + its page number. ``annotation_notes``: which note holds the
    # annotations of which file, and what Citedesk wrote in it last (so a second run keeps
    # what the reader wrote there).
    """
    CREATE TABLE attachments (
        id INTEGER PRIMARY KEY,
        paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
        position INTEGER NOT NULL DEFAULT 0,
        stored INTEGER NOT NULL CHECK (stored IN (0, 1)),
        path TEXT NOT NULL,
        role TEXT NOT NULL DEFAULT 'main' CHECK (role IN ('main', 'supplement')),
        description TEXT NOT NULL DEFAULT '',
        mime TEXT NOT NULL DEFAULT '',
        hash TEXT,
        size INTEGER,
        mtime REAL,
        added TEXT NOT NULL
    );
    CREATE INDEX attachments_paper ON attachments(paper_id, position);
    CREATE INDEX attachments_hash ON attachments(hash) WHERE hash IS NOT NULL;
    CREATE UNIQUE INDEX attachments_stored ON attachments(path) WHERE stored = 1;

    CREATE TABLE file_moves (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL,
        hash TEXT
    );
    CREATE TRIGGER attachments_in AFTER INSERT ON attachments WHEN new.stored = 1
    BEGIN
        INSERT INTO file_moves(path, hash) VALUES (new.path, new.hash);
    END;
    CREATE TRIGGER attachments_out AFTER DELETE ON attachments WHEN old.stored = 1
    BEGIN
        INSERT INTO file_moves(path, hash) VALUES (old.path, old.hash);
    END;
    CREATE TRIGGER attachments_moved AFTER UPDATE OF path, stored, hash ON attachments
        WHEN (old.stored = 1 OR new.stored = 1) AND (old.path IS NOT new.path
            OR old.stored IS NOT new.stored OR old.hash IS NOT new.hash)
    BEGIN
        INSERT INTO file_moves(path, hash) SELECT old.path, old.hash WHERE old.stored = 1;
        INSERT INTO file_moves(path, hash) SELECT new.path, new.hash WHERE new.stored = 1;
    END;

    CREATE TABLE documents (
        id INTEGER PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL CHECK (state IN ('indexed', 'failed')),
        pages INTEGER NOT NULL DEFAULT 0,
        problem TEXT,
        reason TEXT,
        extractor TEXT NOT NULL,
        indexed TEXT NOT NULL
    );
    CREATE VIRTUAL TABLE pages_fts USING fts5(
        text,
        tokenize = 'unicode61 remove_diacritics 2'
    );

    CREATE TABLE annotation_notes (
        note_id INTEGER PRIMARY KEY REFERENCES notes(id) ON DELETE CASCADE,
        attachment_id INTEGER NOT NULL UNIQUE REFERENCES attachments(id) ON DELETE CASCADE,
        generated TEXT NOT NULL
    );
    """,
    # 6: answers of metadata services (doi.org, Crossref, arXiv, Open Library), kept so a
    # paper looked up twice is asked once (db/lookup.py reads it, db/arrivals.py fills it).
    """
    CREATE TABLE lookup_cache (
        url TEXT NOT NULL,
        accept TEXT NOT NULL,
        status INTEGER NOT NULL,
        content_type TEXT NOT NULL,
        body BLOB NOT NULL,
        fetched REAL NOT NULL,
        PRIMARY KEY (url, accept)
    ) WITHOUT ROWID;
    """,
    # 7: the reading queue. ``opened``: when the paper's file or link was last opened from
    # Citedesk (UTC ISO time; NULL: never), written outside undo (db/saved.py). The queue
    # lists unread and reading papers by priority (rating, high first), then the oldest
    # added first; ``papers_queue`` holds that order, ``papers_opened`` the sort by it.
    """
    ALTER TABLE papers ADD COLUMN opened TEXT;
    CREATE INDEX papers_queue ON papers(rating DESC, added, id);
    CREATE INDEX papers_opened ON papers(opened, id);
    """,
    # 8: a group library (db/group.py). ``uid``: a paper's or shared note's identity in the
    # group, given when it is first shared (NULL in a library that is in no group).
    # ``notes.shared``: the member chose to share the note; the others stay personal.
    # ``sync_base``: each shared row as the server and this library last agreed on it (the
    # base of a three-way merge), with the server's version. ``sync_dirty``: rows changed
    # here since ('@blocks': the @string and @preamble blocks), counted up by triggers
    # (db/group.py makes them when the library joins a group, so other libraries pay
    # nothing) on every write, undo included; a sync clears only the rows whose count it
    # read, so an edit made while it runs is pushed next time. ``sync_conflicts``: a part of
    # a paper both sides changed, with both values, until the member chooses.
    """
    ALTER TABLE papers ADD COLUMN uid TEXT;
    -- Whole, not partial: a sync looks for the papers still without one (uid IS NULL).
    CREATE UNIQUE INDEX papers_uid ON papers(uid);
    ALTER TABLE notes ADD COLUMN uid TEXT;
    ALTER TABLE notes ADD COLUMN shared INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1));
    CREATE UNIQUE INDEX notes_uid ON notes(uid);

    CREATE TABLE sync_base (
        uid TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('entry', 'note', 'blocks')),
        version INTEGER NOT NULL,
        data TEXT NOT NULL
    );
    CREATE TABLE sync_dirty (
        uid TEXT PRIMARY KEY,
        n INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE sync_conflicts (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL,
        part TEXT NOT NULL,
        base TEXT NOT NULL,
        mine TEXT NOT NULL,
        theirs TEXT NOT NULL,
        UNIQUE (uid, part)
    );
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
