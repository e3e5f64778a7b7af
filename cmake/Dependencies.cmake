# Every dependency is required: a missing one fails the configure step (install it with
# scripts/install-deps.sh), never silently drops a feature or its tests.
find_package(PkgConfig REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)
find_package(Threads REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(PostgreSQL REQUIRED)
find_package(CURL 7.75 REQUIRED)  # libcurl4-openssl-dev: the S3 backend (CURLOPT_AWS_SIGV4 since 7.75)
find_package(pugixml REQUIRED)  # libpugixml-dev: S3's XML bodies
pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
pkg_check_modules(P11KIT REQUIRED IMPORTED_TARGET p11-kit-1)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
pkg_check_modules(LIBARCHIVE REQUIRED IMPORTED_TARGET libarchive)  # libarchive-dev: the tar inside backups
