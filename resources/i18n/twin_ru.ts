<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ru_RU" sourcelanguage="en">
<context>
    <name>ChatPane</name>
    <message>
        <source>Settings…</source>
        <extracomment>An attached document may take about this share of the model&apos;s context (chars ≈ 3 × tokens).</extracomment>
        <translation>Настройки…</translation>
    </message>
    <message>
        <source>No language model yet — {error}  Memory search (right panel) works meanwhile.</source>
        <translation>Языковой модели пока нет — {error}  Поиск по памяти (панель справа) уже работает.</translation>
    </message>
    <message>
        <source>Loading the model in the background… you can type already.</source>
        <translation>Модель загружается в фоне… можно уже писать.</translation>
    </message>
    <message>
        <source>Summarize this document.</source>
        <translation>Кратко перескажи этот документ.</translation>
    </message>
    <message>
        <source>Twin</source>
        <translation>Twin</translation>
    </message>
</context>
<context>
    <name>ChatWindow</name>
    <message>
        <source>Sources</source>
        <translation>Источники</translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>Память</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Файл</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>Новый чат</translation>
    </message>
    <message>
        <source>Quick ask…</source>
        <translation>Быстрый вопрос…</translation>
    </message>
    <message>
        <source>Add documents…</source>
        <translation>Добавить документы…</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>Настройки…</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Выход</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>&amp;Правка</translation>
    </message>
    <message>
        <source>Find conversation</source>
        <translation>Найти чат</translation>
    </message>
    <message>
        <source>Stop answering</source>
        <translation>Остановить ответ</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Вид</translation>
    </message>
    <message>
        <source>Show side panel</source>
        <translation>Показать боковую панель</translation>
    </message>
    <message>
        <source>Memory panel</source>
        <translation>Панель памяти</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Справка</translation>
    </message>
    <message>
        <source>About twin</source>
        <translation>О программе twin</translation>
    </message>
    <message>
        <source>Source [{n}]</source>
        <translation>Источник [{n}]</translation>
    </message>
    <message>
        <source>Add a folder of notes</source>
        <translation>Добавить папку с заметками</translation>
    </message>
    <message>
        <source>Add documents</source>
        <translation>Добавить документы</translation>
    </message>
    <message>
        <source>Documents (*.md *.markdown *.txt *.pdf *.docx *.html *.htm)</source>
        <translation>Документы (*.md *.markdown *.txt *.pdf *.docx *.html *.htm)</translation>
    </message>
    <message>
        <source>Your personal AI twin. It answers from your own diaries and notes, with sources, and everything stays on this computer.</source>
        <translation>Ваш личный ИИ-двойник. Он отвечает по вашим дневникам и заметкам, со ссылками на источники, и всё остаётся на этом компьютере.</translation>
    </message>
</context>
<context>
    <name>Composer</name>
    <message>
        <source>Ask your twin…  (Enter sends · Shift+Enter new line · drop a file to attach)</source>
        <translation>Спросите своего двойника…  (Enter — отправить · Shift+Enter — новая строка · перетащите файл, чтобы прикрепить)</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>Отправить</translation>
    </message>
    <message>
        <source>Think</source>
        <translation>Размышлять</translation>
    </message>
    <message>
        <source>Let a reasoning model (Qwen3) think before answering: slower, sometimes better</source>
        <translation>Дать рассуждающей модели (Qwen3) подумать перед ответом: медленнее, но иногда лучше</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>Стоп</translation>
    </message>
    <message>
        <source>Editing a question: sending replaces it and everything after it (Esc cancels)</source>
        <translation>Правка вопроса: при отправке он и всё, что после него, будут заменены (Esc — отмена)</translation>
    </message>
    <message numerus="yes">
        <source>%Ln character(s); attached to the next question only. Click to remove.</source>
        <translation>
            <numerusform>%Ln символ; прикреплён только к следующему вопросу. Нажмите, чтобы убрать.</numerusform>
            <numerusform>%Ln символа; прикреплено только к следующему вопросу. Нажмите, чтобы убрать.</numerusform>
            <numerusform>%Ln символов; прикреплено только к следующему вопросу. Нажмите, чтобы убрать.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Controller</name>
    <message>
        <source>The model is still loading ({percent}%). Memory search works meanwhile.</source>
        <extracomment>How often the window checks whether the self-profile&apos;s schedule asks for a build. Encryption at rest: unlocked before the window is built (twin.ui.unlock_dialog). The memory engine (a child process by default), seen as Qt signals; the chat&apos;s retriever. The app: conversations, the model slot, the self-profile, chat memories, background work. The conversations database, only ever through the app&apos;s pool (never the GUI thread).</extracomment>
        <translation>Модель ещё загружается ({percent} %). Поиск по памяти уже работает.</translation>
    </message>
    <message>
        <source>Something went wrong ({error}); details are in the log.</source>
        <translation>Что-то пошло не так ({error}); подробности в журнале.</translation>
    </message>
    <message>
        <source>Profile: reading entries, batch {done}/{total}</source>
        <translation>Профиль: чтение записей, часть {done} из {total}</translation>
    </message>
    <message>
        <source>Profile: starting…</source>
        <translation>Профиль: запуск…</translation>
    </message>
    <message>
        <source>Memory unavailable: {error}</source>
        <translation>Память недоступна: {error}</translation>
    </message>
    <message>
        <source>Memory: opening…</source>
        <translation>Память: открывается…</translation>
    </message>
    <message>
        <source>Memory: indexing paused</source>
        <translation>Память: индексация приостановлена</translation>
    </message>
    <message>
        <source>Memory: indexing…</source>
        <translation>Память: индексация…</translation>
    </message>
    <message>
        <source>Memory: up to date</source>
        <translation>Память: всё актуально</translation>
    </message>
</context>
<context>
    <name>ConversationList</name>
    <message>
        <source>Conversations</source>
        <translation>Чаты</translation>
    </message>
    <message>
        <source>+ New</source>
        <translation>+ Новый</translation>
    </message>
    <message>
        <source>New chat (Ctrl+N)</source>
        <translation>Новый чат (Ctrl+N)</translation>
    </message>
    <message>
        <source>Search conversations (Ctrl+F)</source>
        <translation>Поиск по чатам (Ctrl+F)</translation>
    </message>
    <message>
        <source>Untitled</source>
        <translation>Без названия</translation>
    </message>
    <message>
        <source>last active {when}</source>
        <translation>последняя активность: {when}</translation>
    </message>
    <message>
        <source>this conversation</source>
        <translation>этот чат</translation>
    </message>
    <message>
        <source>Delete conversation</source>
        <translation>Удалить чат</translation>
    </message>
    <message>
        <source>Delete “{title}” for good? Its messages are erased from disk and cannot be recovered.</source>
        <translation>Удалить «{title}» навсегда? Его сообщения будут стёрты с диска, восстановить их будет нельзя.</translation>
    </message>
    <message>
        <source>Rename</source>
        <translation>Переименовать</translation>
    </message>
    <message>
        <source>Delete…</source>
        <translation>Удалить…</translation>
    </message>
</context>
<context>
    <name>DateRangeDialog</name>
    <message>
        <source>Memories from a date range</source>
        <translation>Воспоминания за период</translation>
    </message>
    <message>
        <source>From</source>
        <translation>С</translation>
    </message>
    <message>
        <source>To</source>
        <translation>По</translation>
    </message>
</context>
<context>
    <name>DocumentsFlow</name>
    <message>
        <source>the document has no text</source>
        <translation>в документе нет текста</translation>
    </message>
    <message>
        <source>Attached {names} to your question (this question only).</source>
        <translation>К вопросу прикреплено: {names} (только к этому вопросу).</translation>
    </message>
    <message numerus="yes">
        <source>%n document(s) could not be attached:</source>
        <translation>
            <numerusform>Не удалось прикрепить %n документ:</numerusform>
            <numerusform>Не удалось прикрепить %n документа:</numerusform>
            <numerusform>Не удалось прикрепить %n документов:</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Adding %n item(s) to your memory…</source>
        <translation>
            <numerusform>Добавление %n объекта в память…</numerusform>
            <numerusform>Добавление %n объектов в память…</numerusform>
            <numerusform>Добавление %n объектов в память…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n item(s) could not be added:</source>
        <translation>
            <numerusform>Не удалось добавить %n объект:</numerusform>
            <numerusform>Не удалось добавить %n объекта:</numerusform>
            <numerusform>Не удалось добавить %n объектов:</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n item(s) were not added:</source>
        <translation>
            <numerusform>%n объект не добавлен:</numerusform>
            <numerusform>%n объекта не добавлены:</numerusform>
            <numerusform>%n объектов не добавлено:</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Indexing %n document(s)…</source>
        <translation>
            <numerusform>Индексация %n документа…</numerusform>
            <numerusform>Индексация %n документов…</numerusform>
            <numerusform>Индексация %n документов…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n document(s)</source>
        <translation>
            <numerusform>%n документ</numerusform>
            <numerusform>%n документа</numerusform>
            <numerusform>%n документов</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n folder(s)</source>
        <translation>
            <numerusform>%n папка</numerusform>
            <numerusform>%n папки</numerusform>
            <numerusform>%n папок</numerusform>
        </translation>
    </message>
    <message>
        <source>{documents} and {folders}</source>
        <translation>{documents} и {folders}</translation>
    </message>
    <message>
        <source>Added {what} to your memory — available to your next question.</source>
        <translation>Добавлено в память: {what}. Следующий вопрос уже сможет их учесть.</translation>
    </message>
    <message numerus="yes">
        <source>%n document(s) had problems:</source>
        <translation>
            <numerusform>Проблемы с %n документом:</numerusform>
            <numerusform>Проблемы с %n документами:</numerusform>
            <numerusform>Проблемы с %n документами:</numerusform>
        </translation>
    </message>
    <message>
        <source>no such file or folder</source>
        <translation>нет такого файла или папки</translation>
    </message>
    <message numerus="yes">
        <source>%n item(s) could not be opened:</source>
        <translation>
            <numerusform>Не удалось открыть %n объект:</numerusform>
            <numerusform>Не удалось открыть %n объекта:</numerusform>
            <numerusform>Не удалось открыть %n объектов:</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>…and %n more.</source>
        <translation>
            <numerusform>…и ещё %n.</numerusform>
            <numerusform>…и ещё %n.</numerusform>
            <numerusform>…и ещё %n.</numerusform>
        </translation>
    </message>
    <message>
        <source>Documents</source>
        <translation>Документы</translation>
    </message>
</context>
<context>
    <name>DropModeDialog</name>
    <message>
        <source>Add documents to your memory</source>
        <translation>Добавление документов в память</translation>
    </message>
    <message>
        <source>How should twin keep the documents you drop?</source>
        <translation>Как twin хранить перетащенные документы?</translation>
    </message>
    <message>
        <source>Copy them into twin&apos;s inbox (safe: the originals can move or be deleted)</source>
        <translation>Копировать во входящие twin (надёжно: оригиналы можно перемещать и удалять)</translation>
    </message>
    <message>
        <source>Index them where they are (folders are watched for changes; loose files are still copied)</source>
        <translation>Индексировать на месте (за папками twin следит; отдельные файлы всё равно копируются)</translation>
    </message>
    <message>
        <source>Remember my choice (change it in Settings)</source>
        <translation>Запомнить выбор (изменить можно в настройках)</translation>
    </message>
</context>
<context>
    <name>DropOverlay</name>
    <message>
        <source>Drop notes or documents to add them to your memory
(drop while typing a question to attach them to it)</source>
        <translation>Перетащите заметки или документы, чтобы добавить их в память
(если в это время набирается вопрос, они будут прикреплены к нему)</translation>
    </message>
</context>
<context>
    <name>EmbeddingDownload</name>
    <message>
        <source>Download…</source>
        <translation>Скачать…</translation>
    </message>
    <message>
        <source>Cancel download</source>
        <translation>Отменить скачивание</translation>
    </message>
    <message>
        <source>Download failed:</source>
        <translation>Скачать не удалось:</translation>
    </message>
    <message>
        <source>Download stopped.</source>
        <translation>Скачивание остановлено.</translation>
    </message>
    <message>
        <source>Embedding model {name}: ready</source>
        <translation>Модель эмбеддингов {name}: готова</translation>
    </message>
    <message>
        <source>Embedding model {name}: not downloaded yet (memory search needs it)</source>
        <translation>Модель эмбеддингов {name}: ещё не скачана (она нужна для поиска по памяти)</translation>
    </message>
    <message>
        <source>Download the embedding model</source>
        <translation>Скачивание модели эмбеддингов</translation>
    </message>
    <message>
        <source>Connecting to {host}…</source>
        <translation>Подключение к {host}…</translation>
    </message>
    <message>
        <source>Downloaded: {path}</source>
        <translation>Скачано: {path}</translation>
    </message>
</context>
<context>
    <name>EncryptionBox</name>
    <message>
        <source>Encryption at rest</source>
        <translation>Шифрование данных на диске</translation>
    </message>
    <message>
        <source>current passphrase</source>
        <translation>текущая парольная фраза</translation>
    </message>
    <message>
        <source>Off: your conversations and index are stored as plain text.</source>
        <translation>Выключено: чаты и индекс хранятся открытым текстом.</translation>
    </message>
    <message>
        <source>Being turned on: restart twin to finish (the passphrase is asked at start).</source>
        <translation>Включается: перезапустите twin, чтобы завершить (парольная фраза будет запрошена при запуске).</translation>
    </message>
    <message>
        <source>On.</source>
        <translation>Включено.</translation>
    </message>
    <message>
        <source>Change passphrase</source>
        <translation>Сменить парольную фразу</translation>
    </message>
    <message>
        <source>Encrypt my data</source>
        <translation>Зашифровать мои данные</translation>
    </message>
    <message>
        <source>Type the new passphrase twice.</source>
        <translation>Введите новую парольную фразу дважды.</translation>
    </message>
    <message>
        <source>Working…</source>
        <translation>Выполняется…</translation>
    </message>
    <message>
        <source>Passphrase changed.</source>
        <translation>Парольная фраза изменена.</translation>
    </message>
</context>
<context>
    <name>EncryptionPage</name>
    <message>
        <source>Protect your data with a passphrase (recommended)</source>
        <translation>Защитите данные парольной фразой (рекомендуется)</translation>
    </message>
    <message>
        <source>twin finishes encrypting when it next starts (restart it after this wizard). Leave both fields empty to skip: the settings (Privacy) or `twin encrypt enable` can turn it on later.</source>
        <translation>twin завершит шифрование при следующем запуске (перезапустите его после этого мастера). Чтобы пропустить шаг, оставьте оба поля пустыми: включить шифрование можно и позже — в настройках (раздел «Конфиденциальность») или командой `twin encrypt enable`.</translation>
    </message>
</context>
<context>
    <name>EncryptionPanel</name>
    <message>
        <source>With a passphrase, twin encrypts what it stores about you: your conversations, the text of your memory index and your profile (AES-256-GCM, key derived with Argon2id). Without the passphrase nobody can read them, and neither can you: if you lose it, the conversations are gone (the index can be rebuilt from your folders).

Stays readable: file names and paths, dates, sizes and counts, and the embedding vectors (numbers from which the topic of a passage could be roughly guessed). Your own diary folders, notes remembered from chats and copies of dropped documents are plain files twin indexes: use full-disk encryption for them.</source>
        <extracomment>What encryption covers and leaves, for the window (the README and `twin encrypt status` say the same).</extracomment>
        <translation>С парольной фразой twin шифрует всё, что хранит о вас: чаты, текст индекса памяти и ваш профиль (AES-256-GCM, ключ выводится через Argon2id). Без парольной фразы их никто не прочитает — и вы тоже: если её потерять, чаты пропадут (индекс можно построить заново по вашим папкам).

Остаются читаемыми: имена и пути файлов, даты, размеры и количества, а также векторы эмбеддингов (числа, по которым можно примерно угадать тему фрагмента). Ваши папки с дневниками, заметки, сохранённые из чатов, и копии перетащенных документов — это обычные файлы, которые twin индексирует: для них используйте шифрование всего диска.</translation>
    </message>
</context>
<context>
    <name>EndpointBox</name>
    <message>
        <source>The server&apos;s OpenAI-compatible address, usually ending in /v1 (llama-server, python -m llama_cpp.server, vLLM, Ollama)</source>
        <translation>Адрес сервера, совместимого с OpenAI, обычно оканчивается на /v1 (llama-server, python -m llama_cpp.server, vLLM, Ollama)</translation>
    </message>
    <message>
        <source>Server address</source>
        <translation>Адрес сервера</translation>
    </message>
    <message>
        <source>the server&apos;s default</source>
        <translation>модель сервера по умолчанию</translation>
    </message>
    <message>
        <source>Model name</source>
        <translation>Имя модели</translation>
    </message>
    <message>
        <source>none</source>
        <translation>нет</translation>
    </message>
    <message>
        <source>Kept in settings.toml; or set the TWIN_ENDPOINT_API_KEY environment variable</source>
        <translation>Хранится в settings.toml; или задайте переменную окружения TWIN_ENDPOINT_API_KEY</translation>
    </message>
    <message>
        <source>Set by the TWIN_ENDPOINT_API_KEY environment variable</source>
        <translation>Задан переменной окружения TWIN_ENDPOINT_API_KEY</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>Ключ API</translation>
    </message>
    <message>
        <source>Allow a server on another computer (your questions and the memories sent with them go to it, and only to it)</source>
        <translation>Разрешить сервер на другом компьютере (ваши вопросы и отправленные с ними воспоминания уходят туда, и только туда)</translation>
    </message>
    <message>
        <source>Test connection</source>
        <translation>Проверить соединение</translation>
    </message>
    <message>
        <source>Connecting to {url}…</source>
        <translation>Подключение к {url}…</translation>
    </message>
    <message>
        <source>Connected: {models}</source>
        <translation>Соединение есть: {models}</translation>
    </message>
    <message>
        <source>Connected; the server lists no models.</source>
        <translation>Соединение есть; сервер не сообщает ни одной модели.</translation>
    </message>
    <message>
        <source>Connected, but the server does not offer the model &apos;{model}&apos; (it offers: {models}). Leave the model name empty to use its default.</source>
        <translation>Соединение есть, но у сервера нет модели «{model}» (есть: {models}). Оставьте имя модели пустым, чтобы взять модель по умолчанию.</translation>
    </message>
    <message>
        <source>Not a server address: use e.g. http://127.0.0.1:8080/v1</source>
        <translation>Это не адрес сервера: например, http://127.0.0.1:8080/v1</translation>
    </message>
    <message>
        <source>This server is on another computer: allow that above first.</source>
        <translation>Этот сервер на другом компьютере: сначала разрешите это выше.</translation>
    </message>
    <message>
        <source>twin&apos;s network guard blocked the connection: {detail}</source>
        <translation>Сетевая защита twin заблокировала соединение: {detail}</translation>
    </message>
    <message>
        <source>Nothing answers there (connection refused): is the server running, on this port?</source>
        <translation>Там никто не отвечает (в соединении отказано): запущен ли сервер и на этом ли порту?</translation>
    </message>
    <message>
        <source>The server&apos;s name is not known: {detail}</source>
        <translation>Имя сервера не найдено: {detail}</translation>
    </message>
    <message>
        <source>The server did not answer in time.</source>
        <translation>Сервер не ответил вовремя.</translation>
    </message>
    <message>
        <source>The server refused the API key (HTTP {code}).</source>
        <translation>Сервер не принял ключ API (HTTP {code}).</translation>
    </message>
    <message>
        <source>No /models there (HTTP 404): the address usually ends in /v1.</source>
        <translation>Там нет /models (HTTP 404): адрес обычно оканчивается на /v1.</translation>
    </message>
    <message>
        <source>The server answered with an error: HTTP {code}</source>
        <translation>Сервер ответил ошибкой: HTTP {code}</translation>
    </message>
    <message>
        <source>Something answered, but not an OpenAI-compatible server.</source>
        <translation>Что-то ответило, но это не сервер, совместимый с OpenAI.</translation>
    </message>
    <message>
        <source>Cannot reach the server: {detail}</source>
        <translation>Не удаётся связаться с сервером: {detail}</translation>
    </message>
</context>
<context>
    <name>FirstRunWizard</name>
    <message>
        <source>Welcome to twin</source>
        <translation>Добро пожаловать в twin</translation>
    </message>
    <message>
        <source>Your notes</source>
        <translation>Ваши заметки</translation>
    </message>
    <message>
        <source>Choose the folders with your diaries and notes. twin indexes them on this computer and keeps watching them for changes. Nothing leaves this machine.</source>
        <translation>Выберите папки с дневниками и заметками. twin проиндексирует их на этом компьютере и будет следить за изменениями. Ничего не покидает этот компьютер.</translation>
    </message>
    <message>
        <source>Add folder…</source>
        <translation>Добавить папку…</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>Убрать</translation>
    </message>
    <message>
        <source>What will be indexed appears here.</source>
        <translation>Здесь появится то, что будет проиндексировано.</translation>
    </message>
    <message>
        <source>Add a folder of notes</source>
        <translation>Добавить папку с заметками</translation>
    </message>
    <message>
        <source>Counting files…</source>
        <translation>Подсчёт файлов…</translation>
    </message>
    <message numerus="yes">
        <source>%Ln file(s) will be indexed ({kinds})</source>
        <translation>
            <numerusform>Будет проиндексирован %Ln файл ({kinds})</numerusform>
            <numerusform>Будут проиндексированы %Ln файла ({kinds})</numerusform>
            <numerusform>Будет проиндексировано %Ln файлов ({kinds})</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>; the first %Ln are listed</source>
        <translation>
            <numerusform>; показан первый %Ln</numerusform>
            <numerusform>; показаны первые %Ln</numerusform>
            <numerusform>; показаны первые %Ln</numerusform>
        </translation>
    </message>
    <message>
        <source>The language model</source>
        <translation>Языковая модель</translation>
    </message>
    <message>
        <source>twin answers with a local GGUF model. Use a file you have, or download one that fits this computer (the recommended one is marked). You can also skip this: memory search works without a model.</source>
        <translation>twin отвечает с помощью локальной модели GGUF: возьмите свой файл или скачайте подходящую этому компьютеру (рекомендуемая отмечена). Шаг можно пропустить — поиск по памяти работает и без модели.</translation>
    </message>
    <message>
        <source>Path to a .gguf file</source>
        <translation>Путь к файлу .gguf</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>Обзор…</translation>
    </message>
    <message>
        <source>Choose a GGUF model</source>
        <translation>Выбор модели GGUF</translation>
    </message>
    <message>
        <source>GGUF models (*.gguf)</source>
        <translation>Модели GGUF (*.gguf)</translation>
    </message>
</context>
<context>
    <name>MemoryHost</name>
    <message>
        <source>The memory engine was not started.</source>
        <extracomment>&quot;process&quot; (the engine in a child process) or &quot;thread&quot; (on a thread of this one). The memory client, once :meth:`start` made it. &quot;&quot; when this window keeps the index current, else who does (search still works).</extracomment>
        <translation>Движок памяти не запущен.</translation>
    </message>
</context>
<context>
    <name>MemoryOfferBar</name>
    <message>
        <source>Remember</source>
        <translation>Запомнить</translation>
    </message>
    <message>
        <source>Save it as a note in twin&apos;s memories folder (you can edit or delete it there)</source>
        <translation>Сохранить как заметку в папке воспоминаний twin (там её можно изменить или удалить)</translation>
    </message>
    <message>
        <source>Dismiss</source>
        <translation>Не запоминать</translation>
    </message>
    <message numerus="yes">
        <source>(%n more)</source>
        <translation>
            <numerusform>(ещё %n)</numerusform>
            <numerusform>(ещё %n)</numerusform>
            <numerusform>(ещё %n)</numerusform>
        </translation>
    </message>
    <message>
        <source>Remember this? “{statement}”</source>
        <translation>Запомнить? «{statement}»</translation>
    </message>
</context>
<context>
    <name>MemoryPanel</name>
    <message>
        <source>Search memories</source>
        <translation>Поиск по памяти</translation>
    </message>
    <message>
        <source>Words, a person, “in May 2023”…</source>
        <translation>Слова, имя, «в мае 2023»…</translation>
    </message>
    <message>
        <source>On this day</source>
        <translation>В этот день</translation>
    </message>
    <message>
        <source>Your entries from today&apos;s date in earlier years</source>
        <translation>Ваши записи за это же число в прошлые годы</translation>
    </message>
    <message>
        <source>Indexing</source>
        <translation>Индексация</translation>
    </message>
    <message>
        <source>Opening memory…</source>
        <translation>Открытие памяти…</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>Пауза</translation>
    </message>
    <message>
        <source>Rescan</source>
        <translation>Пересканировать</translation>
    </message>
    <message>
        <source>Watched folders</source>
        <translation>Отслеживаемые папки</translation>
    </message>
    <message>
        <source>Add folder…</source>
        <translation>Добавить папку…</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>Убрать</translation>
    </message>
    <message>
        <source>Problems</source>
        <translation>Проблемы</translation>
    </message>
    <message>
        <source>File</source>
        <translation>Файл</translation>
    </message>
    <message>
        <source>State</source>
        <translation>Состояние</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Причина</translation>
    </message>
    <message numerus="yes">
        <source>%Ln file(s)</source>
        <translation>
            <numerusform>%Ln файл</numerusform>
            <numerusform>%Ln файла</numerusform>
            <numerusform>%Ln файлов</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln passage(s)</source>
        <translation>
            <numerusform>%Ln фрагмент</numerusform>
            <numerusform>%Ln фрагмента</numerusform>
            <numerusform>%Ln фрагментов</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln with problems</source>
        <translation>
            <numerusform>%Ln с проблемами</numerusform>
            <numerusform>%Ln с проблемами</numerusform>
            <numerusform>%Ln с проблемами</numerusform>
        </translation>
    </message>
    <message>
        <source>Problems ({n})</source>
        <translation>Проблемы ({n})</translation>
    </message>
    <message>
        <source>Problems (none)</source>
        <translation>Проблемы (нет)</translation>
    </message>
    <message>
        <source>Paused</source>
        <translation>Приостановлено</translation>
    </message>
    <message>
        <source>Up to date</source>
        <translation>Всё актуально</translation>
    </message>
    <message>
        <source>Too many folders for the system&apos;s file watcher ({sysctl}): {folders} checked for changes every {seconds} s instead of at once. To watch them at once, raise the limit:
{command}
and to keep it after a restart:
{persist}</source>
        <translation>Папок больше, чем может отслеживать система ({sysctl}): {folders} проверяются на изменения раз в {seconds} с, а не сразу. Чтобы изменения замечались сразу, поднимите лимит:
{command}
а чтобы он сохранился после перезагрузки:
{persist}</translation>
    </message>
    <message>
        <source>indexed</source>
        <translation>проиндексирован</translation>
    </message>
    <message>
        <source>partial</source>
        <translation>частично</translation>
    </message>
    <message>
        <source>skipped</source>
        <translation>пропущен</translation>
    </message>
    <message>
        <source>error</source>
        <translation>ошибка</translation>
    </message>
    <message>
        <source>(no folders yet: add your diary folder)</source>
        <translation>(папок пока нет: добавьте папку с дневником)</translation>
    </message>
    <message numerus="yes">
        <source>Scanning… %Ln file(s) found</source>
        <translation>
            <numerusform>Сканирование… найден %Ln файл</numerusform>
            <numerusform>Сканирование… найдено %Ln файла</numerusform>
            <numerusform>Сканирование… найдено %Ln файлов</numerusform>
        </translation>
    </message>
    <message>
        <source>Indexing {done}/{total}</source>
        <translation>Индексация {done} из {total}</translation>
    </message>
    <message numerus="yes">
        <source>%Ln problem(s)</source>
        <translation>
            <numerusform>%Ln проблема</numerusform>
            <numerusform>%Ln проблемы</numerusform>
            <numerusform>%Ln проблем</numerusform>
        </translation>
    </message>
    <message>
        <source>Memory unavailable: {error}</source>
        <translation>Память недоступна: {error}</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>Продолжить</translation>
    </message>
    <message>
        <source>Paused: new and changed notes wait until you resume</source>
        <translation>Приостановлено: новые и изменённые заметки подождут, пока вы не продолжите</translation>
    </message>
    <message>
        <source>Searching…</source>
        <translation>Поиск…</translation>
    </message>
    <message>
        <source>Search failed: {error}</source>
        <translation>Поиск не удался: {error}</translation>
    </message>
    <message>
        <source>No memories found.</source>
        <translation>Ничего не найдено.</translation>
    </message>
    <message>
        <source>On this day, {date}…</source>
        <translation>В этот день, {date}…</translation>
    </message>
    <message>
        <source>On this day failed: {error}</source>
        <translation>Не удалось найти записи за этот день: {error}</translation>
    </message>
    <message>
        <source>Nothing from {date} in earlier years.</source>
        <translation>За {date} в прошлые годы записей нет.</translation>
    </message>
</context>
<context>
    <name>MessageBubble</name>
    <message>
        <source>Copy</source>
        <translation>Копировать</translation>
    </message>
    <message>
        <source>Edit</source>
        <translation>Изменить</translation>
    </message>
    <message>
        <source>Regenerate</source>
        <translation>Ответить заново</translation>
    </message>
    <message>
        <source>Retry</source>
        <translation>Повторить</translation>
    </message>
    <message>
        <source>Thinking…</source>
        <translation>Думаю…</translation>
    </message>
    <message>
        <source>Thought</source>
        <translation>Размышления</translation>
    </message>
    <message numerus="yes">
        <source>(%n word(s))</source>
        <translation>
            <numerusform>(%n слово)</numerusform>
            <numerusform>(%n слова)</numerusform>
            <numerusform>(%n слов)</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>MessageView</name>
    <message>
        <source>Twin</source>
        <translation>Twin</translation>
    </message>
    <message>
        <source>{seconds} s</source>
        <translation>{seconds} с</translation>
    </message>
    <message>
        <source>{rate} tok/s</source>
        <translation>{rate} ток/с</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>остановлено</translation>
    </message>
    <message>
        <source>incomplete ({reason})</source>
        <translation>не завершено ({reason})</translation>
    </message>
    <message>
        <source>interrupted</source>
        <translation>прервано</translation>
    </message>
    <message>
        <source>Ask me anything about your notes.
I answer from your own diaries, with sources.</source>
        <translation>Спросите меня о чём угодно из ваших заметок.
Я отвечаю по вашим дневникам и показываю источники.</translation>
    </message>
    <message>
        <source>You</source>
        <translation>Вы</translation>
    </message>
    <message>
        <source>Could not answer</source>
        <translation>Не удалось ответить</translation>
    </message>
</context>
<context>
    <name>Messages</name>
    <message>
        <source>Model file not found: {path}</source>
        <extracomment>key → the English template (``str.format`` fields, no format specs: numbers are formatted by :func:`english` here and in the locale by the window).</extracomment>
        <translation>Файл модели не найден: {path}</translation>
    </message>
    <message>
        <source>Cannot read model file {path}: {error}</source>
        <translation>Не удаётся прочитать файл модели {path}: {error}</translation>
    </message>
    <message>
        <source>{path} is a folder, not a model file: choose the .gguf file inside it.</source>
        <translation>{path} — это папка, а не файл модели: выберите файл .gguf внутри неё.</translation>
    </message>
    <message>
        <source>{path} is not a regular file (a device or a pipe?): choose a .gguf model file.</source>
        <translation>{path} — не обычный файл (устройство или канал?): выберите файл модели .gguf.</translation>
    </message>
    <message>
        <source>{path} is empty (0 bytes): an interrupted download? Download it again.</source>
        <translation>{path} пуст (0 байт): прерванная загрузка? Скачайте его заново.</translation>
    </message>
    <message>
        <source>{path} is in the old {format} format, which llama.cpp no longer reads: download a GGUF build of the model.</source>
        <translation>{path} в старом формате {format}, который llama.cpp больше не читает: скачайте сборку модели в GGUF.</translation>
    </message>
    <message>
        <source>{path} is not a GGUF model file (llama.cpp needs .gguf; convert or download a GGUF build of the model).</source>
        <translation>{path} — не файл модели GGUF (llama.cpp нужен .gguf; сконвертируйте модель или скачайте её сборку в GGUF).</translation>
    </message>
    <message>
        <source>{path}: unsupported GGUF version {version} (llama.cpp reads versions 2 and 3).</source>
        <translation>{path}: неподдерживаемая версия GGUF {version} (llama.cpp читает версии 2 и 3).</translation>
    </message>
    <message>
        <source>{path}: the GGUF header ends early: the file is truncated (an interrupted download?). Download it again.</source>
        <translation>{path}: заголовок GGUF обрывается: файл обрезан (прерванная загрузка?). Скачайте его заново.</translation>
    </message>
    <message>
        <source>{path} is truncated: its tensors need {need} bytes but the file has {size} (an interrupted download?). Download it again.</source>
        <translation>{path} обрезан: его тензорам нужно {need} байт, а в файле {size} (прерванная загрузка?). Скачайте его заново.</translation>
    </message>
    <message>
        <source>{path} is corrupt: {detail}. Download the model again or pick another file.</source>
        <translation>{path} повреждён: {detail}. Скачайте модель заново или выберите другой файл.</translation>
    </message>
    <message>
        <source>{path} is a LoRA adapter, not a model: choose the base model&apos;s GGUF as the model (the adapter goes in the LoRA adapter setting).</source>
        <translation>{path} — адаптер LoRA, а не модель: выберите моделью GGUF базовой модели (адаптер указывается в настройке «Адаптер LoRA»).</translation>
    </message>
    <message>
        <source>{path} names no model architecture (general.architecture is missing): it is not a complete GGUF model. Download the model again or pick another file.</source>
        <translation>{path} не называет архитектуру модели (нет general.architecture): это не полная модель GGUF. Скачайте модель заново или выберите другой файл.</translation>
    </message>
    <message>
        <source>No model file is set: choose a GGUF in the settings (llm.model_path) or set TWIN_MODEL.</source>
        <translation>Файл модели не задан: выберите GGUF в настройках (llm.model_path) или задайте TWIN_MODEL.</translation>
    </message>
    <message>
        <source>Checking {path} took over {seconds} s; is the disk slow?</source>
        <translation>Проверка {path} заняла больше {seconds} с; медленный диск?</translation>
    </message>
    <message>
        <source>{path}: llama.cpp does not support the model architecture &apos;{arch}&apos;. Update llama-cpp-python, or choose a model of a supported architecture.</source>
        <translation>{path}: llama.cpp не поддерживает архитектуру модели «{arch}». Обновите llama-cpp-python или выберите модель поддерживаемой архитектуры.</translation>
    </message>
    <message>
        <source>{path} is corrupt or malformed: llama.cpp crashed while reading it. Download the model again or pick another file.</source>
        <translation>{path} повреждён или искажён: llama.cpp аварийно завершился при чтении. Скачайте модель заново или выберите другой файл.</translation>
    </message>
    <message>
        <source>{path} is corrupt or malformed: llama.cpp crashed while reading it ({reason}). Download the model again or pick another file.</source>
        <translation>{path} повреждён или искажён: llama.cpp аварийно завершился при чтении ({reason}). Скачайте модель заново или выберите другой файл.</translation>
    </message>
    <message>
        <source>llama.cpp cannot load {path}.</source>
        <translation>llama.cpp не может загрузить {path}.</translation>
    </message>
    <message>
        <source>llama.cpp cannot load {path}: {reason}</source>
        <translation>llama.cpp не может загрузить {path}: {reason}</translation>
    </message>
    <message>
        <source>Loading was cancelled.</source>
        <translation>Загрузка отменена.</translation>
    </message>
    <message>
        <source>{path}: llama.cpp does not support the architecture &apos;{arch}&apos;.</source>
        <translation>{path}: llama.cpp не поддерживает архитектуру «{arch}».</translation>
    </message>
    <message>
        <source>Not enough memory to load {name} with a {n_ctx}-token context. {advice}</source>
        <translation>Не хватает памяти, чтобы загрузить {name} с контекстом на {n_ctx} токенов. {advice}</translation>
    </message>
    <message>
        <source>llama.cpp could not load {path}: {reason}</source>
        <translation>llama.cpp не смог загрузить {path}: {reason}</translation>
    </message>
    <message>
        <source>Try fewer GPU layers (llm.n_gpu_layers, e.g. 24), a smaller context (llm.n_ctx, now {n_ctx}; e.g. {half}) or a q8_0 KV cache (llm.kv_cache_type = &apos;q8_0&apos;).</source>
        <translation>Попробуйте меньше слоёв на видеокарте (llm.n_gpu_layers, например 24), меньший контекст (llm.n_ctx, сейчас {n_ctx}; например {half}) или KV-кэш q8_0 (llm.kv_cache_type = &apos;q8_0&apos;).</translation>
    </message>
    <message>
        <source>Try a smaller context (llm.n_ctx, now {n_ctx}; e.g. {half}) or a q8_0 KV cache (llm.kv_cache_type = &apos;q8_0&apos;).</source>
        <translation>Попробуйте меньший контекст (llm.n_ctx, сейчас {n_ctx}; например {half}) или KV-кэш q8_0 (llm.kv_cache_type = &apos;q8_0&apos;).</translation>
    </message>
    <message>
        <source>LoRA adapter {path} does not exist (check llm.lora_path).</source>
        <translation>Адаптера LoRA {path} нет (проверьте llm.lora_path).</translation>
    </message>
    <message>
        <source>LoRA adapter: {error}</source>
        <translation>Адаптер LoRA: {error}</translation>
    </message>
    <message>
        <source>{name} is a model, not an adapter: llm.lora_path needs a LoRA adapter GGUF (made by llama.cpp&apos;s convert_lora_to_gguf.py; see docs/FINETUNE.md).</source>
        <translation>{name} — модель, а не адаптер: в llm.lora_path нужен GGUF адаптера LoRA (его делает convert_lora_to_gguf.py из llama.cpp; см. docs/FINETUNE.md).</translation>
    </message>
    <message>
        <source>{name} is of type &apos;{type}&apos;, not an adapter: llm.lora_path needs a LoRA adapter GGUF (made by llama.cpp&apos;s convert_lora_to_gguf.py; see docs/FINETUNE.md).</source>
        <translation>{name} имеет тип «{type}», это не адаптер: в llm.lora_path нужен GGUF адаптера LoRA (его делает convert_lora_to_gguf.py из llama.cpp; см. docs/FINETUNE.md).</translation>
    </message>
    <message>
        <source>{name} is a &apos;{type}&apos; adapter; twin loads LoRA adapters only.</source>
        <translation>{name} — адаптер типа «{type}»; twin загружает только адаптеры LoRA.</translation>
    </message>
    <message>
        <source>{name} was made for the &apos;{arch}&apos; architecture but the model is &apos;{base}&apos;: convert the adapter with --base pointing at this model&apos;s Hugging Face folder.</source>
        <translation>{name} сделан для архитектуры «{arch}», а модель — «{base}»: сконвертируйте адаптер с --base, указывающим на папку этой модели с Hugging Face.</translation>
    </message>
    <message>
        <source>{name} holds no LoRA tensors.</source>
        <translation>В {name} нет тензоров LoRA.</translation>
    </message>
    <message>
        <source>llama.cpp cannot apply the LoRA adapter {name}.</source>
        <translation>llama.cpp не может применить адаптер LoRA {name}.</translation>
    </message>
    <message>
        <source>llama.cpp cannot apply the LoRA adapter {name}: {reason}</source>
        <translation>llama.cpp не может применить адаптер LoRA {name}: {reason}</translation>
    </message>
    <message>
        <source>llama.cpp could not set the LoRA adapter {name} on the context.</source>
        <translation>llama.cpp не смог установить адаптер LoRA {name} в контекст.</translation>
    </message>
    <message>
        <source>a text value claims {n} bytes, in a {size}-byte file</source>
        <translation>текстовое значение заявляет {n} байт в файле размером {size} байт</translation>
    </message>
    <message>
        <source>a text value in &apos;{key}&apos; claims {n} bytes, in a {size}-byte file</source>
        <translation>текстовое значение в «{key}» заявляет {n} байт в файле размером {size} байт</translation>
    </message>
    <message>
        <source>the list &apos;{key}&apos; claims {n} items, in a {size}-byte file</source>
        <translation>список «{key}» заявляет {n} элементов в файле размером {size} байт</translation>
    </message>
    <message>
        <source>&apos;{key}&apos; has an unknown value type ({type})</source>
        <translation>у «{key}» неизвестный тип значения ({type})</translation>
    </message>
    <message>
        <source>its header claims {n} {what} (a model has a few thousand at most)</source>
        <translation>его заголовок заявляет {what}: {n} (у модели их самое большее несколько тысяч)</translation>
    </message>
    <message>
        <source>the tensor &apos;{name}&apos; claims {n} dimensions (at most {max})</source>
        <translation>тензор «{name}» заявляет {n} измерений (самое большее {max})</translation>
    </message>
    <message>
        <source>the tensor &apos;{name}&apos; claims the shape {shape}</source>
        <translation>тензор «{name}» заявляет форму {shape}</translation>
    </message>
    <message>
        <source>tensors</source>
        <translation>тензоров</translation>
    </message>
    <message>
        <source>metadata entries</source>
        <translation>записей метаданных</translation>
    </message>
    <message>
        <source>auto: {reason}</source>
        <translation>авто: {reason}</translation>
    </message>
    <message>
        <source>auto: this llama.cpp build has no GPU support, so the model runs on the CPU</source>
        <translation>авто: эта сборка llama.cpp не поддерживает видеокарты, поэтому модель работает на процессоре</translation>
    </message>
    <message>
        <source>{n}-token context, {kv} KV cache</source>
        <translation>контекст на {n} токенов, KV-кэш {kv}</translation>
    </message>
    <message>
        <source>the GPU</source>
        <translation>видеокарте</translation>
    </message>
    <message>
        <source>all {total} layers with a {ctx} need {full}</source>
        <translation>всем {total} слоям с контекстом ({ctx}) нужно {full}</translation>
    </message>
    <message>
        <source>too big for this machine: with {k} of {total} layers on {gpu}, the rest needs {rest} of RAM and {ram} is installed</source>
        <translation>слишком велика для этого компьютера: при {k} из {total} слоёв на {gpu} остальному нужно {rest} ОЗУ, а установлено {ram}</translation>
    </message>
    <message>
        <source>all {total} layers on {gpu}: {full} needed, {free} free ({ctx})</source>
        <translation>все {total} слоёв на {gpu}: нужно {full}, свободно {free} ({ctx})</translation>
    </message>
    <message>
        <source>{k} of {total} layers on {gpu} ({used} of {free} free; {needs}); the other {other} run on the CPU</source>
        <translation>{k} из {total} слоёв на {gpu} ({used} из свободных {free}; {needs}); остальные {other} работают на процессоре</translation>
    </message>
    <message>
        <source>this llama.cpp build has no GPU support: the model runs on the CPU</source>
        <translation>эта сборка llama.cpp не поддерживает видеокарты: модель работает на процессоре</translation>
    </message>
    <message>
        <source>no GPU found: the model runs on the CPU</source>
        <translation>видеокарта не найдена: модель работает на процессоре</translation>
    </message>
    <message>
        <source>not even one layer fits in the {free} free on {gpu} ({needs}): the model runs on the CPU</source>
        <translation>даже один слой не помещается в свободные {free} на {gpu} ({needs}): модель работает на процессоре</translation>
    </message>
    <message>
        <source>The GPU ran out of memory with {tried} layers; the model was loaded with {done} of {total} layers on the GPU. Close other programs using the GPU, or lower llm.n_ctx, to put more on the GPU.</source>
        <translation>Видеопамяти не хватило при {tried} слоях; модель загружена с {done} из {total} слоёв на видеокарте. Закройте другие программы, занимающие видеокарту, или уменьшите llm.n_ctx, чтобы поместить на неё больше.</translation>
    </message>
    <message>
        <source>The GPU ran out of memory with {tried} layers; the model was loaded with the CPU only. Close other programs using the GPU, or lower llm.n_ctx, to put more on the GPU.</source>
        <translation>Видеопамяти не хватило при {tried} слоях; модель загружена только на процессор. Закройте другие программы, занимающие видеокарту, или уменьшите llm.n_ctx, чтобы поместить на неё больше.</translation>
    </message>
    <message>
        <source>not found</source>
        <translation>не найден</translation>
    </message>
    <message>
        <source>not a regular file</source>
        <translation>не обычный файл</translation>
    </message>
    <message>
        <source>unsupported file type {suffix} (supported: {kinds})</source>
        <translation>неподдерживаемый тип файла {suffix} (поддерживаются: {kinds})</translation>
    </message>
    <message>
        <source>(no extension)</source>
        <translation>(без расширения)</translation>
    </message>
    <message>
        <source>excluded by the settings (hidden, temporary or matching an exclusion)</source>
        <translation>исключён настройками (скрытый, временный или подходит под исключение)</translation>
    </message>
    <message>
        <source>permission denied</source>
        <translation>доступ запрещён</translation>
    </message>
    <message>
        <source>the folder holds no supported documents</source>
        <translation>в папке нет поддерживаемых документов</translation>
    </message>
    <message>
        <source>cannot copy into the inbox: {error}</source>
        <translation>не удаётся скопировать во входящие: {error}</translation>
    </message>
    <message>
        <source>binary file, not text</source>
        <translation>двоичный файл, не текст</translation>
    </message>
    <message>
        <source>encrypted PDF that cannot be opened here ({error})</source>
        <translation>зашифрованный PDF, который здесь не открыть ({error})</translation>
    </message>
    <message>
        <source>encrypted PDF (password protected)</source>
        <translation>зашифрованный PDF (защищён паролем)</translation>
    </message>
    <message>
        <source>broken PDF ({error})</source>
        <translation>повреждённый PDF ({error})</translation>
    </message>
    <message>
        <source>broken PDF (no page could be read)</source>
        <translation>повреждённый PDF (не удалось прочитать ни одной страницы)</translation>
    </message>
    <message>
        <source>broken DOCX ({error})</source>
        <translation>повреждённый DOCX ({error})</translation>
    </message>
    <message>
        <source>encrypted by twin: turn encryption on (and unlock) to read it</source>
        <translation>зашифрован twin: включите шифрование (и разблокируйте), чтобы прочитать его</translation>
    </message>
    <message>
        <source>unsupported file type &apos;{suffix}&apos;</source>
        <translation>неподдерживаемый тип файла «{suffix}»</translation>
    </message>
    <message>
        <source>is a directory, not a file</source>
        <translation>это папка, а не файл</translation>
    </message>
    <message>
        <source>file too large ({size}; the limit is {limit})</source>
        <translation>файл слишком большой ({size}; предел — {limit})</translation>
    </message>
    <message>
        <source>cannot decrypt: {error}</source>
        <translation>не удаётся расшифровать: {error}</translation>
    </message>
    <message>
        <source>file disappeared while reading</source>
        <translation>файл исчез во время чтения</translation>
    </message>
    <message>
        <source>symbolic link loop</source>
        <translation>петля символических ссылок</translation>
    </message>
    <message>
        <source>file name too long</source>
        <translation>слишком длинное имя файла</translation>
    </message>
    <message>
        <source>input/output error (disk or network problem)</source>
        <translation>ошибка ввода-вывода (проблема с диском или сетью)</translation>
    </message>
    <message>
        <source>a folder in the path is a file</source>
        <translation>одна из папок в пути — файл</translation>
    </message>
    <message>
        <source>cannot read the file ({error})</source>
        <translation>не удаётся прочитать файл ({error})</translation>
    </message>
    <message>
        <source>file disappeared or is a broken link</source>
        <translation>файл исчез или это битая ссылка</translation>
    </message>
    <message>
        <source>symlink loop</source>
        <translation>петля символических ссылок</translation>
    </message>
    <message>
        <source>path too long</source>
        <translation>слишком длинный путь</translation>
    </message>
    <message>
        <source>input/output error (disk?)</source>
        <translation>ошибка ввода-вывода (диск?)</translation>
    </message>
    <message>
        <source>Embedding model &apos;{ref}&apos; is not available offline ({kind}). Download it once with: twin models pull-embedding {ref}  (or set TWIN_EMBEDDING_MODEL to a local folder).</source>
        <translation>Модель эмбеддингов «{ref}» недоступна без сети ({kind}). Скачайте её один раз: twin models pull-embedding {ref}  (или укажите в TWIN_EMBEDDING_MODEL локальную папку).</translation>
    </message>
    <message>
        <source>The prompt needs {n} tokens but the model&apos;s context holds {ctx}. Start a new conversation, shorten the message, or raise llm.n_ctx.</source>
        <translation>Запросу нужно {n} токенов, а контекст модели вмещает {ctx}. Начните новый разговор, сократите сообщение или увеличьте llm.n_ctx.</translation>
    </message>
    <message>
        <source>Memories are unavailable for this answer: {error}</source>
        <translation>Память недоступна для этого ответа: {error}</translation>
    </message>
    <message>
        <source>Memories are unavailable for this answer: the search cannot limit them to {scope}.</source>
        <translation>Память недоступна для этого ответа: поиск не умеет ограничиться областью {scope}.</translation>
    </message>
    <message>
        <source>Wrong passphrase: the data stays locked and nothing was changed.</source>
        <translation>Неверная парольная фраза: данные остаются запертыми, ничего не изменено.</translation>
    </message>
    <message>
        <source>The passphrase must have at least {n} characters.</source>
        <translation>Парольная фраза должна быть не короче {n} символов.</translation>
    </message>
    <message>
        <source>unknown key derivation &apos;{name}&apos; in the key file</source>
        <translation>неизвестный способ получения ключа «{name}» в файле ключа</translation>
    </message>
    <message>
        <source>The key file {path} is unreadable ({error}); restore it from a backup.</source>
        <translation>Файл ключа {path} не читается ({error}); восстановите его из резервной копии.</translation>
    </message>
    <message>
        <source>The key file {path} is from another twin version.</source>
        <translation>Файл ключа {path} — от другой версии twin.</translation>
    </message>
    <message>
        <source>The key file {path} is damaged ({error}); restore it from a backup.</source>
        <translation>Файл ключа {path} повреждён ({error}); восстановите его из резервной копии.</translation>
    </message>
    <message>
        <source>Encryption is already on (twin encrypt change-passphrase changes the passphrase).</source>
        <translation>Шифрование уже включено (парольную фразу меняет twin encrypt change-passphrase).</translation>
    </message>
    <message>
        <source>Encryption is already on (or being turned on).</source>
        <translation>Шифрование уже включено (или включается).</translation>
    </message>
    <message>
        <source>Encryption is not on.</source>
        <translation>Шифрование не включено.</translation>
    </message>
    <message>
        <source>Turning encryption off was interrupted: run `twin encrypt disable` to finish it first.</source>
        <translation>Выключение шифрования было прервано: сначала завершите его командой `twin encrypt disable`.</translation>
    </message>
    <message>
        <source>Turning encryption on was interrupted: run `twin encrypt enable` again to finish it.</source>
        <translation>Включение шифрования было прервано: выполните `twin encrypt enable` ещё раз, чтобы завершить его.</translation>
    </message>
    <message>
        <source>Turning encryption off was interrupted: run `twin encrypt disable` again to finish it.</source>
        <translation>Выключение шифрования было прервано: выполните `twin encrypt disable` ещё раз, чтобы завершить его.</translation>
    </message>
    <message>
        <source>An encrypted file was found but encryption is off.</source>
        <translation>Найден зашифрованный файл, но шифрование выключено.</translation>
    </message>
    <message>
        <source>{path}: not valid TOML: {error}</source>
        <translation>{path}: это не корректный TOML: {error}</translation>
    </message>
    <message>
        <source>{path}: cannot read settings: {error}</source>
        <translation>{path}: не удаётся прочитать настройки: {error}</translation>
    </message>
    <message>
        <source>{origin}: &apos;{key}&apos; must be {type}, got {value}</source>
        <translation>{origin}: «{key}» должно быть типа {type}, а указано {value}</translation>
    </message>
    <message>
        <source>{origin}: &apos;[{key}]&apos; must be a table</source>
        <translation>{origin}: «[{key}]» должно быть таблицей</translation>
    </message>
    <message>
        <source>&apos;{key}&apos; must be at least {min}</source>
        <translation>Значение «{key}» должно быть не меньше {min}</translation>
    </message>
    <message>
        <source>&apos;{key}&apos; must be 0 or more</source>
        <translation>Значение «{key}» должно быть не меньше 0</translation>
    </message>
    <message>
        <source>&apos;{key}&apos; must be positive</source>
        <translation>Значение «{key}» должно быть больше 0</translation>
    </message>
    <message>
        <source>&apos;{key}&apos; must be between {low} and {high}</source>
        <translation>Значение «{key}» должно быть от {low} до {high}</translation>
    </message>
    <message>
        <source>&apos;{key}&apos; must be in {interval}</source>
        <translation>Значение «{key}» должно лежать в интервале {interval}</translation>
    </message>
    <message>
        <source>&apos;{key}&apos; must be one of: {choices}</source>
        <translation>Значение «{key}» может быть только одним из: {choices}</translation>
    </message>
    <message>
        <source>&apos;{key}&apos; must not be empty</source>
        <translation>Значение «{key}» не может быть пустым</translation>
    </message>
    <message>
        <source>&apos;llm.n_gpu_layers&apos; must be &apos;auto&apos;, -1 (all layers), 0 or more</source>
        <translation>Значение «llm.n_gpu_layers» должно быть «auto», -1 (все слои), 0 или больше</translation>
    </message>
    <message>
        <source>&apos;llm.n_threads&apos; must be 0 (automatic) or more</source>
        <translation>Значение «llm.n_threads» должно быть 0 (автоматически) или больше</translation>
    </message>
    <message>
        <source>a quantized &apos;llm.kv_cache_type&apos; needs &apos;llm.flash_attn = true&apos;</source>
        <translation>для квантованного «llm.kv_cache_type» нужно «llm.flash_attn = true»</translation>
    </message>
    <message>
        <source>{who} (pid {pid})</source>
        <translation>{who} (процесс {pid})</translation>
    </message>
    <message>
        <source>the twin window (pid {pid})</source>
        <translation>окно twin (процесс {pid})</translation>
    </message>
    <message>
        <source>another twin process</source>
        <translation>другой процесс twin</translation>
    </message>
    <message>
        <source>the index is being kept current by {who}</source>
        <translation>индекс сейчас обновляет {who}</translation>
    </message>
    <message>
        <source>the index is being kept current by {who}: your changes will be picked up; searching works meanwhile</source>
        <translation>индекс сейчас обновляет {who}: ваши изменения будут учтены, а поиск пока работает</translation>
    </message>
    <message>
        <source>{writer}. Drop the documents there, or close it first.</source>
        <translation>{writer}. Перетащите документы туда или сначала закройте его.</translation>
    </message>
    <message>
        <source>{writer}. Change folders there, or close it first.</source>
        <translation>{writer}. Измените папки там или сначала закройте его.</translation>
    </message>
    <message>
        <source>The global shortcut is not available here ({error}); the tray and the window work as before.</source>
        <translation>Глобальное сочетание клавиш здесь недоступно ({error}); значок в трее и окно работают как прежде.</translation>
    </message>
    <message>
        <source>The global shortcut {combo} cannot be used: {error}</source>
        <translation>Глобальное сочетание клавиш {combo} не работает: {error}</translation>
    </message>
    <message>
        <source>could not download {name}: {error}</source>
        <translation>не удалось скачать {name}: {error}</translation>
    </message>
    <message>
        <source>could not reach {repo} on the hub: {error}</source>
        <translation>не удалось связаться с {repo} на хабе: {error}</translation>
    </message>
    <message>
        <source>could not download {name} from {repo}: {error}</source>
        <translation>не удалось скачать {name} из {repo}: {error}</translation>
    </message>
    <message>
        <source>the hub gave no size for {name} in {repo}</source>
        <translation>хаб не сообщил размер {name} в {repo}</translation>
    </message>
    <message>
        <source>the download of {name} is damaged (it has {size} bytes, the hub says {expected}); it was deleted: download it again.</source>
        <translation>загрузка {name} повреждена (в ней {size} байт, а хаб говорит {expected}); она удалена: скачайте заново.</translation>
    </message>
    <message>
        <source>the download of {name} is damaged (its sha256 is {digest}, the hub says {expected}); it was deleted: download it again.</source>
        <translation>загрузка {name} повреждена (её sha256 — {digest}, а хаб говорит {expected}); она удалена: скачайте заново.</translation>
    </message>
    <message>
        <source>twin is set to stay offline (TWIN_OFFLINE), so it will not download models.</source>
        <translation>twin настроен не выходить в сеть (TWIN_OFFLINE), поэтому не будет скачивать модели.</translation>
    </message>
</context>
<context>
    <name>ModelBridge</name>
    <message>
        <source>CPU</source>
        <translation>ЦП</translation>
    </message>
    <message>
        <source>GPU {done}/{total} layers</source>
        <translation>ГП: {done} из {total} слоёв</translation>
    </message>
    <message>
        <source>({used}/{total} GB VRAM)</source>
        <translation>({used} из {total} ГБ видеопамяти)</translation>
    </message>
    <message>
        <source>(auto)</source>
        <translation>(авто)</translation>
    </message>
    <message>
        <source>LoRA not applied: {error}</source>
        <translation>LoRA не применён: {error}</translation>
    </message>
    <message>
        <source>ctx {n}</source>
        <translation>контекст {n}</translation>
    </message>
    <message>
        <source>no model</source>
        <translation>нет модели</translation>
    </message>
    <message>
        <source>The model could not be loaded: {error}</source>
        <translation>Не удалось загрузить модель: {error}</translation>
    </message>
    <message>
        <source>No model: {error}</source>
        <translation>Нет модели: {error}</translation>
    </message>
    <message>
        <source>Loading model… {percent}%</source>
        <translation>Загрузка модели… {percent} %</translation>
    </message>
</context>
<context>
    <name>ModelPage</name>
    <message>
        <source>twin will connect to {host} to download {what} ({size} GB) into
{folder}

This is the only connection twin makes. Download now?</source>
        <translation>twin подключится к {host} и скачает {what} ({size} ГБ) в папку
{folder}

Это единственное подключение, которое делает twin. Скачать сейчас?</translation>
    </message>
    <message>
        <source>Measuring this machine…</source>
        <translation>Оцениваем этот компьютер…</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Модель</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>Размер</translation>
    </message>
    <message>
        <source>On this machine</source>
        <translation>На этом компьютере</translation>
    </message>
    <message>
        <source>Download…</source>
        <translation>Скачать…</translation>
    </message>
    <message>
        <source>Cancel download</source>
        <translation>Отменить скачивание</translation>
    </message>
    <message>
        <source>Model files on this computer (used where they are, never copied):</source>
        <translation>Файлы моделей на этом компьютере (используются на месте, без копирования):</translation>
    </message>
    <message>
        <source>Use this file</source>
        <translation>Использовать этот файл</translation>
    </message>
    <message>
        <source>Download failed:</source>
        <translation>Скачать не удалось:</translation>
    </message>
    <message>
        <source>Download stopped; it resumes where it left off next time.</source>
        <translation>Скачивание остановлено; в следующий раз оно продолжится с того же места.</translation>
    </message>
    <message>
        <source>This machine: {machine}. Fit for a {n}-token context.</source>
        <translation>Этот компьютер: {machine}. Оценка для контекста в {n} токенов.</translation>
    </message>
    <message>
        <source>fits on the GPU</source>
        <translation>помещается в видеокарту</translation>
    </message>
    <message>
        <source>runs on the CPU (slowly)</source>
        <translation>работает на процессоре (медленно)</translation>
    </message>
    <message>
        <source>too big for this machine</source>
        <translation>слишком велика для этого компьютера</translation>
    </message>
    <message>
        <source>(base model)</source>
        <translation>(базовая модель)</translation>
    </message>
    <message>
        <source>recommended</source>
        <translation>рекомендуется</translation>
    </message>
    <message>
        <source>on disk</source>
        <translation>уже на диске</translation>
    </message>
    <message>
        <source>partly on the GPU ({k} of {n} layers)</source>
        <translation>частично на видеокарте ({k} из {n} слоёв)</translation>
    </message>
    <message>
        <source>{size} GB</source>
        <translation>{size} ГБ</translation>
    </message>
    <message>
        <source>{size} MB</source>
        <translation>{size} МБ</translation>
    </message>
    <message>
        <source>unusable</source>
        <translation>непригоден</translation>
    </message>
    <message>
        <source>None found.</source>
        <translation>Ничего не найдено.</translation>
    </message>
    <message>
        <source>no GPU found (models run on the CPU); {ram} GB RAM</source>
        <translation>видеокарта не найдена (модели работают на процессоре); ОЗУ {ram} ГБ</translation>
    </message>
    <message>
        <source>{gpu}: {free} of {total} GB VRAM free; {ram} GB RAM</source>
        <translation>{gpu}: свободно {free} из {total} ГБ видеопамяти; ОЗУ {ram} ГБ</translation>
    </message>
    <message>
        <source>(this llama.cpp build cannot use the GPU)</source>
        <translation>(эта сборка llama.cpp не умеет работать с видеокартой)</translation>
    </message>
    <message>
        <source>Choose a model in the list first.</source>
        <translation>Сначала выберите модель в списке.</translation>
    </message>
    <message>
        <source>(+{n} more parts)</source>
        <translation>(ещё частей: {n})</translation>
    </message>
    <message>
        <source>Download the model</source>
        <translation>Скачивание модели</translation>
    </message>
    <message>
        <source>Connecting to {host}…</source>
        <translation>Подключение к {host}…</translation>
    </message>
    <message>
        <source>Downloaded: {path}</source>
        <translation>Скачано: {path}</translation>
    </message>
</context>
<context>
    <name>PassphraseFields</name>
    <message numerus="yes">
        <source>at least %n characters</source>
        <translation>
            <numerusform>не менее %n символа</numerusform>
            <numerusform>не менее %n символов</numerusform>
            <numerusform>не менее %n символов</numerusform>
        </translation>
    </message>
    <message>
        <source>the same again</source>
        <translation>ещё раз то же самое</translation>
    </message>
    <message>
        <source>Passphrase</source>
        <translation>Парольная фраза</translation>
    </message>
    <message>
        <source>Repeat</source>
        <translation>Повтор</translation>
    </message>
    <message>
        <source>The two passphrases differ.</source>
        <translation>Парольные фразы не совпадают.</translation>
    </message>
    <message numerus="yes">
        <source>Use at least %n characters.</source>
        <translation>
            <numerusform>Нужно не менее %n символа.</numerusform>
            <numerusform>Нужно не менее %n символов.</numerusform>
            <numerusform>Нужно не менее %n символов.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>QuickAskPopup</name>
    <message>
        <source>Ask your twin…  (Enter asks · Esc closes)</source>
        <translation>Спросите своего двойника…  (Enter — спросить · Esc — закрыть)</translation>
    </message>
    <message>
        <source>Open in main window</source>
        <translation>Открыть в главном окне</translation>
    </message>
    <message>
        <source>Follow up on “{question}”…</source>
        <translation>Продолжить тему «{question}»…</translation>
    </message>
    <message>
        <source>You asked: {question}</source>
        <translation>Ваш вопрос: {question}</translation>
    </message>
    <message>
        <source>Thinking…</source>
        <translation>Думаю…</translation>
    </message>
    <message>
        <source>Answering…</source>
        <translation>Отвечаю…</translation>
    </message>
    <message>
        <source>Sources:</source>
        <translation>Источники:</translation>
    </message>
    <message>
        <source>No notes were used.</source>
        <translation>Заметки не использовались.</translation>
    </message>
    <message>
        <source>Stopped.</source>
        <translation>Остановлено.</translation>
    </message>
    <message>
        <source>Could not answer.</source>
        <translation>Не удалось ответить.</translation>
    </message>
</context>
<context>
    <name>ScopeChip</name>
    <message>
        <source>All memory</source>
        <translation>Вся память</translation>
    </message>
    <message>
        <source>No memory (the model alone)</source>
        <translation>Без памяти (только модель)</translation>
    </message>
    <message>
        <source>One folder…</source>
        <translation>Одна папка…</translation>
    </message>
    <message>
        <source>One document…</source>
        <translation>Один документ…</translation>
    </message>
    <message>
        <source>A date range…</source>
        <translation>Период…</translation>
    </message>
    <message>
        <source>Keep this chat as memory</source>
        <translation>Сохранить этот чат в памяти</translation>
    </message>
    <message>
        <source>Later chats can find and cite what was said here</source>
        <translation>Следующие чаты смогут находить и цитировать то, что здесь сказано</translation>
    </message>
    <message>
        <source>No memory</source>
        <translation>Без памяти</translation>
    </message>
    <message>
        <source>Dates: {since} – {until}</source>
        <translation>Даты: {since} – {until}</translation>
    </message>
    <message>
        <source>Folder: {name}</source>
        <translation>Папка: {name}</translation>
    </message>
    <message>
        <source>Document: {name}</source>
        <translation>Документ: {name}</translation>
    </message>
    <message>
        <source>kept as memory</source>
        <translation>сохраняется в памяти</translation>
    </message>
    <message>
        <source>Which memories this chat uses. {where}</source>
        <translation>Какие воспоминания использует этот чат. {where}</translation>
    </message>
    <message>
        <source>Use memories from this folder only</source>
        <translation>Брать воспоминания только из этой папки</translation>
    </message>
    <message>
        <source>Use memories from this document only</source>
        <translation>Брать воспоминания только из этого документа</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>chat template ✓</source>
        <translation>шаблон чата ✓</translation>
    </message>
    <message>
        <source>no chat template (used as a base model)</source>
        <translation>нет шаблона чата (работает как базовая модель)</translation>
    </message>
    <message>
        <source>KV cache {kib} KiB/token</source>
        <translation>KV-кэш {kib} КиБ/токен</translation>
    </message>
    <message>
        <source>{layers} layers · trained context {context} · {size} GB</source>
        <translation>слоёв: {layers} · обучена на контексте {context} · {size} ГБ</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>Настройки</translation>
    </message>
    <message>
        <source>Privacy</source>
        <translation>Конфиденциальность</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>Обзор…</translation>
    </message>
    <message>
        <source>Models…</source>
        <translation>Модели…</translation>
    </message>
    <message>
        <source>Models that fit this computer, files found on it, downloads</source>
        <translation>Модели, подходящие этому компьютеру, найденные на нём файлы, скачивание</translation>
    </message>
    <message>
        <source>Model file</source>
        <translation>Файл модели</translation>
    </message>
    <message>
        <source>Set by the TWIN_MODEL environment variable</source>
        <translation>Задано переменной окружения TWIN_MODEL</translation>
    </message>
    <message>
        <source>auto (as many as fit)</source>
        <translation>авто (сколько поместится)</translation>
    </message>
    <message>
        <source>Layers offloaded to the GPU: auto (as many as fit the free VRAM), -1 = all, fewer to save VRAM, 0 = CPU only</source>
        <translation>Сколько слоёв выгружать на видеокарту: авто (сколько поместится в свободную видеопамять), -1 — все, меньше — чтобы сберечь видеопамять, 0 — только процессор</translation>
    </message>
    <message>
        <source>GPU layers</source>
        <translation>Слои на ГП</translation>
    </message>
    <message>
        <source>Context window in tokens (clamped to the model&apos;s trained context)</source>
        <translation>Окно контекста в токенах (не больше, чем контекст, на котором обучена модель)</translation>
    </message>
    <message>
        <source>Context</source>
        <translation>Контекст</translation>
    </message>
    <message>
        <source>Let reasoning models think before answering (new conversations)</source>
        <translation>Давать рассуждающим моделям подумать перед ответом (в новых чатах)</translation>
    </message>
    <message>
        <source>Thinking</source>
        <translation>Размышление</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Модель</translation>
    </message>
    <message>
        <source>On this computer (a GGUF file)</source>
        <translation>На этом компьютере (файл GGUF)</translation>
    </message>
    <message>
        <source>On a server (OpenAI-compatible: llama-server, vLLM, Ollama)</source>
        <translation>На сервере (совместимом с OpenAI: llama-server, vLLM, Ollama)</translation>
    </message>
    <message>
        <source>Model runs</source>
        <translation>Где работает модель</translation>
    </message>
    <message>
        <source>On</source>
        <translation>Вкл.</translation>
    </message>
    <message>
        <source>none (a LoRA adapter .gguf)</source>
        <translation>нет (адаптер LoRA, .gguf)</translation>
    </message>
    <message>
        <source>Strength: 0 = off, 1 = as trained</source>
        <translation>Сила: 0 — выключен, 1 — как при обучении</translation>
    </message>
    <message>
        <source>Scale</source>
        <translation>Сила</translation>
    </message>
    <message>
        <source>LoRA adapter</source>
        <translation>Адаптер LoRA</translation>
    </message>
    <message>
        <source>Set by the TWIN_LORA environment variable</source>
        <translation>Задано переменной окружения TWIN_LORA</translation>
    </message>
    <message>
        <source>How the twin calls you</source>
        <translation>Как двойник будет к вам обращаться</translation>
    </message>
    <message>
        <source>Your name</source>
        <translation>Ваше имя</translation>
    </message>
    <message>
        <source>Speaks as me (first person)</source>
        <translation>Говорит как я (от первого лица)</translation>
    </message>
    <message>
        <source>An assistant who knows me</source>
        <translation>Ассистент, который меня знает</translation>
    </message>
    <message>
        <source>Mode</source>
        <translation>Режим</translation>
    </message>
    <message>
        <source>Persona</source>
        <translation>Персона</translation>
    </message>
    <message>
        <source>Only when I ask (twin profile build)</source>
        <translation>Только по запросу (twin profile build)</translation>
    </message>
    <message>
        <source>Daily, in the background</source>
        <translation>Ежедневно, в фоне</translation>
    </message>
    <message>
        <source>Weekly, in the background</source>
        <translation>Еженедельно, в фоне</translation>
    </message>
    <message>
        <source>Reading your diaries into a profile is heavy: it runs while the model is idle and stops for your questions.</source>
        <translation>Составление профиля по дневникам — тяжёлая работа: она идёт, пока модель простаивает, и прерывается ради ваших вопросов.</translation>
    </message>
    <message>
        <source>Self-profile</source>
        <translation>Профиль о себе</translation>
    </message>
    <message>
        <source>Add folder…</source>
        <translation>Добавить папку…</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>Убрать</translation>
    </message>
    <message>
        <source>Folders</source>
        <translation>Папки</translation>
    </message>
    <message>
        <source>A sentence-transformers model name or a local folder; changing it re-embeds everything</source>
        <translation>Имя модели sentence-transformers или локальная папка; после смены всё будет пересчитано заново</translation>
    </message>
    <message>
        <source>Embedding model</source>
        <translation>Модель эмбеддингов</translation>
    </message>
    <message>
        <source>One pattern per line, e.g. private/**  or  *.draft.md</source>
        <translation>По одному шаблону на строку, например private/**  или  *.draft.md</translation>
    </message>
    <message>
        <source>Skip</source>
        <translation>Пропускать</translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>Память</translation>
    </message>
    <message>
        <source>Keep running in the tray when the window is closed</source>
        <translation>Оставаться в трее после закрытия окна</translation>
    </message>
    <message>
        <source>Closing</source>
        <translation>Закрытие</translation>
    </message>
    <message>
        <source>&lt;ctrl&gt;+&lt;alt&gt;+space (empty: off)</source>
        <translation>&lt;ctrl&gt;+&lt;alt&gt;+space (пусто — выключено)</translation>
    </message>
    <message>
        <source>Quick-ask hotkey</source>
        <translation>Клавиши быстрого вопроса</translation>
    </message>
    <message>
        <source>Follow the system</source>
        <translation>Как в системе</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>Светлая</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>Тёмная</translation>
    </message>
    <message>
        <source>Theme</source>
        <translation>Тема</translation>
    </message>
    <message>
        <source>Ask me</source>
        <translation>Спрашивать</translation>
    </message>
    <message>
        <source>Copy into twin&apos;s inbox</source>
        <translation>Копировать во входящие twin</translation>
    </message>
    <message>
        <source>Index where they are</source>
        <translation>Индексировать на месте</translation>
    </message>
    <message>
        <source>Dropped documents</source>
        <translation>Перетащенные документы</translation>
    </message>
    <message>
        <source>twin connects to nothing, except a model download that you start and confirm</source>
        <translation>twin никуда не подключается, кроме скачивания модели, которое вы сами запускаете и подтверждаете</translation>
    </message>
    <message>
        <source>Network</source>
        <translation>Сеть</translation>
    </message>
    <message>
        <source>App</source>
        <translation>Приложение</translation>
    </message>
    <message>
        <source>A new language applies when twin restarts.</source>
        <translation>Новый язык вступит в силу после перезапуска twin.</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Язык</translation>
    </message>
    <message>
        <source>offline: no connection has been made</source>
        <translation>офлайн: ни одного подключения не было</translation>
    </message>
    <message>
        <source>offline switches are set, but connections are not watched in this process</source>
        <translation>офлайн-режим включён, но подключения в этом процессе не отслеживаются</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>Модели</translation>
    </message>
    <message>
        <source>Choose a GGUF model</source>
        <translation>Выбор модели GGUF</translation>
    </message>
    <message>
        <source>GGUF models (*.gguf)</source>
        <translation>Модели GGUF (*.gguf)</translation>
    </message>
    <message>
        <source>Choose a LoRA adapter</source>
        <translation>Выбор адаптера LoRA</translation>
    </message>
    <message>
        <source>GGUF adapters (*.gguf)</source>
        <translation>Адаптеры GGUF (*.gguf)</translation>
    </message>
    <message>
        <source>Adapter ✓</source>
        <translation>Адаптер ✓</translation>
    </message>
    <message>
        <source>Adapter ✓ (off: the base model runs alone)</source>
        <translation>Адаптер ✓ (выключен: работает одна базовая модель)</translation>
    </message>
    <message>
        <source>Add a folder of notes</source>
        <translation>Добавить папку с заметками</translation>
    </message>
    <message>
        <source>No model chosen: memory search works; chatting needs a model.</source>
        <translation>Модель не выбрана: поиск по памяти работает, а для чата нужна модель.</translation>
    </message>
    <message>
        <source>Reading the model file…</source>
        <translation>Чтение файла модели…</translation>
    </message>
    <message>
        <source>Folder not found: {folders}</source>
        <translation>Папка не найдена: {folders}</translation>
    </message>
    <message>
        <source>(or turn the adapter off)</source>
        <translation>(или выключите адаптер)</translation>
    </message>
    <message>
        <source>Not saved: {error}</source>
        <translation>Не сохранено: {error}</translation>
    </message>
</context>
<context>
    <name>SourceCard</name>
    <message>
        <source>Open</source>
        <translation>Открыть</translation>
    </message>
    <message>
        <source>Open in your editor</source>
        <translation>Открыть в редакторе</translation>
    </message>
    <message>
        <source>line {n}</source>
        <translation>строка {n}</translation>
    </message>
    <message>
        <source>lines {start}–{end}</source>
        <translation>строки {start}–{end}</translation>
    </message>
    <message>
        <source>(text not available)</source>
        <translation>(текст недоступен)</translation>
    </message>
</context>
<context>
    <name>SourceViewer</name>
    <message>
        <source>This file is encrypted by twin (encryption at rest): an editor would show only ciphertext. It is shown here, decrypted in memory.</source>
        <translation>Этот файл зашифрован twin (шифрование на диске): редактор показал бы только шифротекст. Здесь он показан расшифрованным в памяти.</translation>
    </message>
    <message>
        <source>Source</source>
        <extracomment>The app&apos;s pool for reading files (None: a pool of its own per job). Opens files twin sealed (encryption on), in memory only.</extracomment>
        <translation>Источник</translation>
    </message>
    <message>
        <source>Open in editor</source>
        <translation>Открыть в редакторе</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Закрыть</translation>
    </message>
    <message>
        <source>line {n}</source>
        <translation>строка {n}</translation>
    </message>
    <message>
        <source>lines {start}–{end}</source>
        <translation>строки {start}–{end}</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>Загрузка…</translation>
    </message>
    <message>
        <source>Cannot show this file: {error}</source>
        <translation>Не удаётся показать этот файл: {error}</translation>
    </message>
</context>
<context>
    <name>SourcesPanel</name>
    <message>
        <source>Sources</source>
        <translation>Источники</translation>
    </message>
    <message>
        <source>Select an answer to see the notes it was given.</source>
        <translation>Выберите ответ, чтобы увидеть заметки, на которые он опирался.</translation>
    </message>
    <message>
        <source>Sources ({n})</source>
        <translation>Источники ({n})</translation>
    </message>
    <message numerus="yes">
        <source>%n cited in the answer · click a source to read it</source>
        <translation>
            <numerusform>В ответе процитирован %n источник · нажмите, чтобы прочитать</numerusform>
            <numerusform>В ответе процитированы %n источника · нажмите, чтобы прочитать</numerusform>
            <numerusform>В ответе процитировано %n источников · нажмите, чтобы прочитать</numerusform>
        </translation>
    </message>
    <message>
        <source>Notes the answer was given · click to read</source>
        <translation>Заметки, данные для ответа · нажмите, чтобы прочитать</translation>
    </message>
    <message>
        <source>No notes were used for this answer.</source>
        <translation>Для этого ответа заметки не использовались.</translation>
    </message>
</context>
<context>
    <name>TrayIcon</name>
    <message>
        <source>Open twin</source>
        <translation>Открыть twin</translation>
    </message>
    <message>
        <source>Quick Ask…</source>
        <translation>Быстрый вопрос…</translation>
    </message>
    <message>
        <source>Pause indexing</source>
        <translation>Приостановить индексацию</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Выход</translation>
    </message>
    <message>
        <source>Resume indexing</source>
        <translation>Продолжить индексацию</translation>
    </message>
</context>
<context>
    <name>UnlockDialog</name>
    <message>
        <source>Unlock twin</source>
        <translation>Разблокировать twin</translation>
    </message>
    <message>
        <source>Your conversations and memory index are encrypted.
Enter your passphrase to open them.</source>
        <translation>Ваши чаты и индекс памяти зашифрованы.
Введите парольную фразу, чтобы открыть их.</translation>
    </message>
    <message>
        <source>Passphrase</source>
        <translation>Парольная фраза</translation>
    </message>
    <message>
        <source>Unlock</source>
        <translation>Разблокировать</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Выход</translation>
    </message>
    <message>
        <source>Enter the passphrase.</source>
        <translation>Введите парольную фразу.</translation>
    </message>
    <message>
        <source>Unlocking…</source>
        <translation>Разблокировка…</translation>
    </message>
</context>
<context>
    <name>_Progress</name>
    <message>
        <source>{done} of {total} GB · {speed} MB/s</source>
        <translation>{done} из {total} ГБ · {speed} МБ/с</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>The settings file cannot be used:

{error}

Fix or delete {file} and start again.</source>
        <translation>Файл настроек не удаётся использовать:

{error}

Исправьте или удалите {file} и запустите программу снова.</translation>
    </message>
</context>
</TS>
