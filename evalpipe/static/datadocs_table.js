/*
 * evalpipe: an offline stand-in for the bootstrap-table calls made by the index page of
 * Great Expectations' Data Docs (no PyPI package ships bootstrap-table 1.19).
 *
 * It implements the subset of $.fn.bootstrapTable(options) that page uses: columns (title, field,
 * sortable, sortName, align, filterControl "input" / "select" / "datepicker", filterDataCollector,
 * filterCustomSearch), data, rowStyle, rowAttributes, sortName, sortOrder, search, toolbar,
 * the "click-row.bs.table" event and the methods "clearFilterControl" and "resetSearch".
 * Every row is shown (no pagination). Cell values are the HTML that GX wrote into the page.
 */
(function ($) {
  "use strict";

  var KEY = "evalpipe.table";

  function named(fn) {
    if (typeof fn === "function") { return fn; }
    if (typeof fn === "string" && typeof window[fn] === "function") { return window[fn]; }
    return null;
  }

  function yes(value) {
    return value === true || value === "true";
  }

  function plain(html) {
    return $("<div>").html(html === undefined || html === null ? "" : String(html)).text().replace(/\s+/g, " ").trim();
  }

  function filterText(column, row) {
    var value = row[column.field];
    var collector = named(column.filterDataCollector);
    return plain(collector ? collector(value, row, value) : value);
  }

  function sortKey(column, row) {
    var value = row[column.sortName || column.field];
    return typeof value === "number" ? value : plain(value).toLowerCase();
  }

  function matches(state, row) {
    var query = state.query.toLowerCase();
    if (query) {
      var all = state.columns.map(function (c) { return plain(row[c.field]); }).join(" ").toLowerCase();
      if (all.indexOf(query) < 0) { return false; }
    }
    return state.columns.every(function (column, i) {
      var wanted = state.filters[i];
      if (!wanted) { return true; }
      var custom = named(column.filterCustomSearch);
      if (custom) { return custom(wanted, row[column.field], column.field, state.data); }
      var text = filterText(column, row);
      return column.filterControl === "select" ? text === wanted : text.toLowerCase().indexOf(wanted.toLowerCase()) >= 0;
    });
  }

  function draw(state) {
    var rows = state.data.filter(function (row) { return matches(state, row); });
    var sortColumn = state.columns.filter(function (c) { return c.field === state.sortName; })[0];
    if (sortColumn) {
      var sign = state.sortOrder === "desc" ? -1 : 1;
      rows.sort(function (a, b) {
        var x = sortKey(sortColumn, a), y = sortKey(sortColumn, b);
        return x < y ? -sign : x > y ? sign : 0;
      });
    }
    var $body = state.$table.children("tbody").empty();
    rows.forEach(function (row, index) {
      var $tr = $("<tr>");
      var attributes = named(state.options.rowAttributes);
      if (attributes) { $tr.attr(attributes(row, index) || {}); }
      var style = named(state.options.rowStyle);
      if (style) { $tr.css((style(row, index) || {}).css || {}); }
      state.columns.forEach(function (column) {
        var $td = $("<td>").html(row[column.field] === undefined ? "" : row[column.field]);
        if (column.align) { $td.css("text-align", column.align); }
        $tr.append($td);
      });
      $tr.on("click", function () { state.$table.trigger("click-row.bs.table", [row, $tr]); });
      $body.append($tr);
    });
    if (!rows.length) {
      $body.append($("<tr>").append($("<td>").attr("colspan", state.columns.length).text("No matching records found")));
    }
    state.$table.attr("data-rows-shown", rows.length);
  }

  function filterControl(state, column, i) {
    var $cell = $("<th>");
    var kind = column.filterControl;
    if (!kind) { return $cell; }
    var $input;
    if (kind === "select") {
      $input = $("<select class='form-control form-control-sm'>").append($("<option value=''>"));
      var seen = {};
      state.data.forEach(function (row) { seen[filterText(column, row)] = true; });
      Object.keys(seen).sort().forEach(function (text) { $input.append($("<option>").val(text).text(text)); });
    } else {
      $input = $("<input class='form-control form-control-sm'>").attr("type", kind === "datepicker" ? "date" : "search");
    }
    $input.addClass("evalpipe-filter").on("input change", function () {
      state.filters[i] = $(this).val();
      draw(state);
    });
    return $cell.append($input);
  }

  function build($table, options) {
    var state = {
      $table: $table, options: options, columns: options.columns || [], data: (options.data || []).slice(),
      sortName: options.sortName, sortOrder: options.sortOrder || "asc", query: "", filters: []
    };
    $table.addClass("table table-hover table-bordered").empty();
    if (!$table.parent().hasClass("table-responsive")) { $table.wrap("<div class='table-responsive'></div>"); }
    var $head = $("<tr>");
    state.columns.forEach(function (column) {
      var $th = $("<th>").text(column.title || column.field);
      if (column.align) { $th.css("text-align", column.align); }
      if (yes(column.sortable)) {
        $th.css("cursor", "pointer").on("click", function () {
          state.sortOrder = state.sortName === column.field && state.sortOrder === "asc" ? "desc" : "asc";
          state.sortName = column.field;
          draw(state);
        });
      }
      $head.append($th);
    });
    var $thead = $("<thead>").append($head);
    if (yes(options.filterControl)) {
      var $filters = $("<tr class='evalpipe-filters'>");
      state.columns.forEach(function (column, i) { $filters.append(filterControl(state, column, i)); });
      $thead.append($filters);
    }
    $table.append($thead, $("<tbody>"));
    if (yes(options.search)) {
      state.$search = $("<input type='search' class='form-control form-control-sm d-inline-block ml-1'>")
        .attr("placeholder", "Search").css("width", "auto")
        .on("input", function () { state.query = $(this).val(); draw(state); });
      var $toolbar = options.toolbar ? $(options.toolbar) : $();
      if ($toolbar.length) { $toolbar.append(state.$search); } else { $table.before(state.$search); }
    }
    $table.data(KEY, state);
    draw(state);
  }

  $.fn.bootstrapTable = function (options) {
    if (typeof options === "string") {
      return this.each(function () {
        var state = $(this).data(KEY);
        if (!state) { return; }
        if (options === "clearFilterControl") {
          state.filters = [];
          $(this).find(".evalpipe-filter").val("");
        } else if (options === "resetSearch") {
          state.query = "";
          if (state.$search) { state.$search.val(""); }
        }
        draw(state);
      });
    }
    return this.each(function () { build($(this), options || {}); });
  };
})(jQuery);
