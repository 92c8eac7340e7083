#ifndef FINCH_TESTS_SUPPORT_DOC_TABLES_HPP
#define FINCH_TESTS_SUPPORT_DOC_TABLES_HPP

// Test support for the tests that hold documentation and code to each other
// (options_test, redis_options_test, permessage_deflate_test): the rows of a
// Markdown table, the data members a struct of a public header declares, and
// checkDocumentedDefaults, which holds a struct's defaults to its table.
// Paths are relative to the source tree, FINCH_TEST_SOURCE_DIR, which
// tests/CMakeLists.txt defines for those files.

#include <catch2/catch.hpp>

#include <cstddef>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace finch::test {

inline std::vector<std::string> sourceLines(const std::string& relativePath)
{
#ifndef FINCH_TEST_SOURCE_DIR
#error "FINCH_TEST_SOURCE_DIR must name the source tree (see tests/CMakeLists.txt)"
#endif
    const std::string path = std::string(FINCH_TEST_SOURCE_DIR) + "/" + relativePath;
    std::ifstream file(path);
    if (!file)
        throw std::runtime_error("cannot read " + path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(file, line);)
        lines.push_back(line);
    return lines;
}

inline std::string trimmed(const std::string& text)
{
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos)
        return {};
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// The first table after the line `heading` of the Markdown file
// `relativePath`: its first column (backquotes removed) mapped to its
// second, header row left out. Throws if the heading or the table is
// missing, or if the first column names a row twice.
inline std::map<std::string, std::string> markdownTable(const std::string& relativePath, const std::string& heading)
{
    const auto lines = sourceLines(relativePath);
    std::size_t at = 0;
    while (at < lines.size() && lines[at] != heading)
        ++at;
    if (at == lines.size())
        throw std::runtime_error(relativePath + " has no line \"" + heading + "\"");
    while (at < lines.size() && lines[at].rfind("|", 0) != 0)
        ++at;
    std::map<std::string, std::string> rows;
    bool header = true;
    for (; at < lines.size() && lines[at].rfind("|", 0) == 0; ++at) {
        std::vector<std::string> cells;
        std::string cell;
        const std::string& line = lines[at];
        for (std::size_t i = 1; i < line.size(); ++i) {
            if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
                cell += '|';
                ++i;
            } else if (line[i] == '|') {
                cells.push_back(trimmed(cell));
                cell.clear();
            } else {
                cell += line[i];
            }
        }
        if (header || cells.size() < 2 || cells[0].rfind("---", 0) == 0) {
            header = false;
            continue;
        }
        std::string name;
        for (const char c : cells[0])
            if (c != '`')
                name += c;
        if (!rows.emplace(name, cells[1]).second)
            throw std::runtime_error(relativePath + " names " + name + " twice in its table");
    }
    if (rows.empty())
        throw std::runtime_error(relativePath + " has no table after \"" + heading + "\"");
    return rows;
}

// The data members of the struct that starts with the line `opening` (as
// "struct Options {") in the header `relativePath`: every declaration at the
// struct's own indentation, up to its closing "};".
inline std::set<std::string> structMembers(const std::string& relativePath, const std::string& opening)
{
    const auto lines = sourceLines(relativePath);
    std::size_t at = 0;
    while (at < lines.size() && lines[at] != opening)
        ++at;
    if (at == lines.size())
        throw std::runtime_error(relativePath + " has no line \"" + opening + "\"");
    static const std::regex declaration(R"(^    [A-Za-z_][^/(]*?([A-Za-z_][A-Za-z0-9_]*)\s*(=.*|\{.*\})?;$)");
    std::set<std::string> members;
    for (++at; at < lines.size() && lines[at] != "};"; ++at) {
        std::smatch match;
        if (std::regex_match(lines[at], match, declaration))
            members.insert(match[1]);
    }
    if (at == lines.size())
        throw std::runtime_error(relativePath + ": \"" + opening + "\" is not closed");
    return members;
}

// "a, b" -> {"a", "b"}: a table's row may name several members.
inline std::set<std::string> memberNames(const std::string& cell)
{
    std::set<std::string> names;
    std::size_t start = 0;
    while (start <= cell.size()) {
        const auto comma = cell.find(',', start);
        names.insert(trimmed(cell.substr(start, comma - start)));
        if (comma == std::string::npos)
            break;
        start = comma + 1;
    }
    return names;
}

// A row of a documentation table of defaults: its first cell (the members it
// names, without backquotes), its default cell as written, and whether a
// value has that default.
template <class Struct>
struct DocumentedDefault {
    std::string names;
    std::string documented;
    std::function<bool(const Struct&)> isDefault;
};

// Holds a struct, its documentation and its test to each other: `made` (a
// value as its user gets it) has every default of `rows`; the table after
// `heading` in `document` states each as written; and the table, the members
// declared after `opening` in `header`, and `rows` name the same members. So a
// default changed in one place only, or a member added without its row,
// fails.
template <class Struct>
void checkDocumentedDefaults(const Struct& made, const std::vector<DocumentedDefault<Struct>>& rows,
    const std::string& document, const std::string& heading, const std::string& header, const std::string& opening)
{
    const auto table = markdownTable(document, heading);
    std::set<std::string> tested;
    for (const auto& row : rows) {
        INFO(row.names);
        CHECK(row.isDefault(made));
        REQUIRE(table.count(row.names) == 1);
        CHECK(table.at(row.names) == row.documented);
        for (const auto& name : memberNames(row.names))
            tested.insert(name);
    }
    std::set<std::string> documented;
    for (const auto& row : table)
        for (const auto& name : memberNames(row.first))
            documented.insert(name);
    const auto declared = structMembers(header, opening);
    CHECK(declared == documented);
    CHECK(declared == tested);
}

}  // namespace finch::test

#endif
