<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>Composer</name>
    <message numerus="yes">
        <source>%Ln character(s); attached to the next question only. Click to remove.</source>
        <translation>
            <numerusform>%Ln character; attached to the next question only. Click to remove.</numerusform>
            <numerusform>%Ln characters; attached to the next question only. Click to remove.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>DocumentsFlow</name>
    <message numerus="yes">
        <source>%n document(s) could not be attached:</source>
        <translation>
            <numerusform>%n document could not be attached:</numerusform>
            <numerusform>%n documents could not be attached:</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Adding %n item(s) to your memory…</source>
        <translation>
            <numerusform>Adding %n item to your memory…</numerusform>
            <numerusform>Adding %n items to your memory…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n item(s) could not be added:</source>
        <translation>
            <numerusform>%n item could not be added:</numerusform>
            <numerusform>%n items could not be added:</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n item(s) were not added:</source>
        <translation>
            <numerusform>%n item was not added:</numerusform>
            <numerusform>%n items were not added:</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Indexing %n document(s)…</source>
        <translation>
            <numerusform>Indexing %n document…</numerusform>
            <numerusform>Indexing %n documents…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n document(s)</source>
        <translation>
            <numerusform>%n document</numerusform>
            <numerusform>%n documents</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n folder(s)</source>
        <translation>
            <numerusform>%n folder</numerusform>
            <numerusform>%n folders</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n document(s) had problems:</source>
        <translation>
            <numerusform>%n document had problems:</numerusform>
            <numerusform>%n documents had problems:</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n item(s) could not be opened:</source>
        <translation>
            <numerusform>%n item could not be opened:</numerusform>
            <numerusform>%n items could not be opened:</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>…and %n more.</source>
        <translation>
            <numerusform>…and %n more.</numerusform>
            <numerusform>…and %n more.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>FirstRunWizard</name>
    <message numerus="yes">
        <source>%Ln file(s) will be indexed ({kinds})</source>
        <translation>
            <numerusform>%Ln file will be indexed ({kinds})</numerusform>
            <numerusform>%Ln files will be indexed ({kinds})</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>; the first %Ln are listed</source>
        <translation>
            <numerusform>; the first %Ln is listed</numerusform>
            <numerusform>; the first %Ln are listed</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>MemoryOfferBar</name>
    <message numerus="yes">
        <source>(%n more)</source>
        <translation>
            <numerusform>(%n more)</numerusform>
            <numerusform>(%n more)</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>MemoryPanel</name>
    <message numerus="yes">
        <source>%Ln file(s)</source>
        <translation>
            <numerusform>%Ln file</numerusform>
            <numerusform>%Ln files</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln passage(s)</source>
        <translation>
            <numerusform>%Ln passage</numerusform>
            <numerusform>%Ln passages</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln with problems</source>
        <translation>
            <numerusform>%Ln with problems</numerusform>
            <numerusform>%Ln with problems</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Scanning… %Ln file(s) found</source>
        <translation>
            <numerusform>Scanning… %Ln file found</numerusform>
            <numerusform>Scanning… %Ln files found</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln problem(s)</source>
        <translation>
            <numerusform>%Ln problem</numerusform>
            <numerusform>%Ln problems</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>MessageBubble</name>
    <message numerus="yes">
        <source>(%n word(s))</source>
        <translation>
            <numerusform>(%n word)</numerusform>
            <numerusform>(%n words)</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>PassphraseFields</name>
    <message numerus="yes">
        <source>at least %n characters</source>
        <translation>
            <numerusform>at least %n character</numerusform>
            <numerusform>at least %n characters</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Use at least %n characters.</source>
        <translation>
            <numerusform>Use at least %n character.</numerusform>
            <numerusform>Use at least %n characters.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>SourcesPanel</name>
    <message numerus="yes">
        <source>%n cited in the answer · click a source to read it</source>
        <translation>
            <numerusform>%n cited in the answer · click a source to read it</numerusform>
            <numerusform>%n cited in the answer · click a source to read it</numerusform>
        </translation>
    </message>
</context>
</TS>
