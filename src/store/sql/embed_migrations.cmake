# Generates a .cpp defining store::sql::embedded_migrations() from the migration files.
# Run at build time: cmake -DOUTPUT=file.cpp -DINPUTS="a.sql|b.sql" -P embed_migrations.cmake
string(REPLACE "|" ";" INPUTS "${INPUTS}")
list(SORT INPUTS)
set(entries "")
foreach(path IN LISTS INPUTS)
  get_filename_component(name "${path}" NAME)
  if(NOT name MATCHES "^([0-9][0-9][0-9][0-9])_[a-z0-9_]+\\.sql$")
    message(FATAL_ERROR "migration file ${name}: expected NNNN_snake_name.sql")
  endif()
  string(REGEX REPLACE "^0+" "" version "${CMAKE_MATCH_1}")
  file(READ "${path}" sql)
  string(FIND "${sql}" ")cartorio_sql\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "migration file ${name} contains the raw-string delimiter")
  endif()
  string(APPEND entries "    {${version}, \"${name}\", R\"cartorio_sql(${sql})cartorio_sql\"},\n")
endforeach()
set(content "// Generated from src/store/migrations/*.sql by embed_migrations.cmake. Do not edit.
#include \"store/sql/migrations.h\"

namespace cartorio::store::sql {
namespace {
constexpr Migration kMigrations[] = {
${entries}};
}  // namespace

std::span<const Migration> embedded_migrations() { return kMigrations; }

}  // namespace cartorio::store::sql
")
file(WRITE "${OUTPUT}.tmp" "${content}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
