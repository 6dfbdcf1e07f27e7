# Uploads in a Rails app written the wrong way on purpose: request data reaches each sink marked
# VULN through a helper method of the same controller, += or <<, or string interpolation.
class UploadsController < ApplicationController
  def create
    upload = params[:upload]
    store(upload.original_filename, params[:folder])
    redirect_to uploads_path
  end

  def show
    path = '/srv/uploads/'
    path += params[:name]
    send_file path # VULN path
  end

  def preview
    out = +'<div class="preview">'
    out << params[:caption]
    render html: out.html_safe # VULN xss
  end

  def search
    term = params[:q]
    clause = "title LIKE '%#{term}%'"
    @uploads = Upload.where("#{clause} AND public = 1") # VULN sql
  end

  def count
    @total = Upload.where('owner_id = ?', params[:owner].to_i).count
  end

  private

  def store(name, folder)
    system("mv /tmp/incoming/#{name} /srv/uploads/#{folder}/") # VULN command
  end
end
